package gateway

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
)

// httpsGet asks the gateway's TLS listener for path with SNI name, trusting
// roots; it answers the certificate served and the response.
func httpsGet(t *testing.T, client *http.Client, addr, name, path string) (*x509.Certificate, int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
	req.Host = name
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET https://%s%s (SNI %s): %v", addr, path, name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.TLS.PeerCertificates[0], resp.StatusCode, string(body)
}

func sniClient(ca *certtest.CA, name string) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: name}}}
}

// The HTTPS listener serves the certificate of the name asked for and the
// same routes as the plain listener; a new revision's certificate serves
// new handshakes while a connection made before keeps working.
func TestHTTPSListener(t *testing.T) { forEachEngine(t, testHTTPSListener) }

func testHTTPSListener(t *testing.T, engine string) {
	r := start(t, engine)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) { _, _ = io.WriteString(w, "hello "+req.URL.Path) })
	ca := certtest.NewCA(t)
	api, wild := ca.Issue(t, "api.example.com"), ca.Issue(t, "*.example.com")
	snap := snapshotOf(t, 1, be, named("x"))
	snap.Groups[0].Certificates = []spec.Certificate{api.GroupCertificate(t, "api", false), wild.GroupCertificate(t, "wild", true)}
	r.publish(t, snap)

	if got := metricValue(t, r.status, `portico_certificate_expiry_timestamp_seconds{certificate="api",group="default"}`); got != float64(api.Leaf.NotAfter.Unix()) {
		t.Errorf("expiry metric %v, want %d", got, api.Leaf.NotAfter.Unix())
	}
	kept := sniClient(ca, "api.example.com")
	for _, tc := range []struct {
		name string
		want certtest.Pair
	}{{"api.example.com", api}, {"www.example.com", wild}} {
		got, code, body := httpsGet(t, sniClient(ca, tc.name), r.tls, tc.name, "/x")
		if !got.Equal(tc.want.Leaf) || code != http.StatusOK || body != "hello /x" {
			t.Errorf("SNI %s: served %v, answered %d %q", tc.name, got.DNSNames, code, body)
		}
	}
	if got, _, _ := httpsGet(t, kept, r.tls, "api.example.com", "/x"); !got.Equal(api.Leaf) {
		t.Fatalf("first connection served %v", got.DNSNames)
	}

	renewed := ca.Issue(t, "api.example.com")
	snap = snapshotOf(t, 2, be, named("x"))
	snap.Groups[0].Certificates = []spec.Certificate{renewed.GroupCertificate(t, "api", false), wild.GroupCertificate(t, "wild", true)}
	r.publish(t, snap)
	if got, code, _ := httpsGet(t, sniClient(ca, "api.example.com"), r.tls, "api.example.com", "/x"); !got.Equal(renewed.Leaf) || code != http.StatusOK {
		t.Errorf("after the renewal: served %v (serial %v), answered %d", got.DNSNames, got.SerialNumber, code)
	}
	if got, code, _ := httpsGet(t, kept, r.tls, "api.example.com", "/x"); !got.Equal(api.Leaf) || code != http.StatusOK {
		t.Errorf("the connection made before the renewal: served serial %v, answered %d", got.SerialNumber, code)
	}
}

// Only TLS 1.2 and above; without a certificate for a name (and no
// default) the handshake fails rather than serving another name's.
func TestHTTPSRefuses(t *testing.T) {
	r := start(t, EngineFast)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) {})
	ca := certtest.NewCA(t)
	snap := snapshotOf(t, 1, be, named("x"))
	snap.Groups[0].Certificates = []spec.Certificate{ca.Issue(t, "api.example.com").GroupCertificate(t, "api", false)}
	r.publish(t, snap)

	old := &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example.com", MaxVersion: tls.VersionTLS11}
	if c, err := tls.Dial("tcp", r.tls, old); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	other := &tls.Config{RootCAs: ca.Pool(), ServerName: "other.example.com", InsecureSkipVerify: true}
	if c, err := tls.Dial("tcp", r.tls, other); err == nil {
		c.Close()
		t.Error("a name without a certificate got one")
	}
}

// A service answers on the listeners its protocols name: an https-only one
// asks a plain request for HTTPS (426) or redirects it with the status it
// says, to the same host and path on the TLS port; an http-only one is
// not found over TLS.
func TestProtocols(t *testing.T) { forEachEngine(t, testProtocols) }

func testProtocols(t *testing.T, engine string) {
	r := start(t, engine)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) { _, _ = io.WriteString(w, "ok") })
	ca := certtest.NewCA(t)
	snap := snapshotOf(t, 1, be, named("x"))
	svc := func(id string, protocols []string, redirect int) spec.DeployedService {
		ds := snap.Groups[0].Services[0]
		ds.Service = spec.Service{ID: id, Name: id, Path: "/" + id, Routes: []spec.Route{named("x")}, Protocols: protocols, HTTPSRedirectStatusCode: redirect}
		return ds
	}
	snap.Groups[0].Services = []spec.DeployedService{svc("both", nil, 0), svc("plain", []string{"http"}, 0),
		svc("secure", []string{"https"}, 0), svc("moved", []string{"https"}, http.StatusPermanentRedirect)}
	snap.Groups[0].Certificates = []spec.Certificate{ca.Issue(t, "api.example.com").GroupCertificate(t, "api", true)}
	r.publish(t, snap)
	_, tlsPort, _ := net.SplitHostPort(r.tls)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	plain := func(path, host string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, r.gw+path, nil)
		req.Host = host
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		path, host string
		status     int
		location   string
	}{
		{"/both/x", "api.example.com", 200, ""},
		{"/plain/x", "api.example.com", 200, ""},
		{"/secure/x", "api.example.com", 426, ""},
		{"/moved/x?a=1", "api.example.com", 308, "https://api.example.com/moved/x?a=1"},
		{"/moved/x?a=1", "api.example.com:8080", 308, "https://api.example.com:" + tlsPort + "/moved/x?a=1"},
		{"/moved/x", "evil.example.net", 426, ""}, // no certificate names it: no Location built from it
	} {
		resp := plain(tc.path, tc.host)
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
			t.Errorf("plain %s (Host %s): %d Location %q, want %d %q", tc.path, tc.host, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
		}
	}
	client := sniClient(ca, "api.example.com")
	for path, want := range map[string]int{"/both/x": 200, "/plain/x": 404, "/secure/x": 200, "/moved/x": 200} {
		if _, status, _ := httpsGet(t, client, r.tls, "api.example.com", path); status != want {
			t.Errorf("TLS %s: %d, want %d", path, status, want)
		}
	}
}

// HTTP/2 over TLS (ALPN h2) reaches an HTTP/1.1 backend through the same
// routes and plugins, whichever engine serves HTTP/1.1; ALPN http/1.1
// still gets HTTP/1.1.
func TestHTTP2(t *testing.T) { forEachEngine(t, testHTTP2) }

func testHTTP2(t *testing.T, engine string) {
	r := start(t, engine)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.WriteString(w, req.Proto+" "+req.URL.Path+" "+req.Header.Get("X-Added"))
		if req.Header.Get("X-Forwarded-Proto") != "https" {
			t.Errorf("X-Forwarded-Proto %q over TLS", req.Header.Get("X-Forwarded-Proto"))
		}
	})
	ca := certtest.NewCA(t)
	snap := snapshotOf(t, 1, be, named("x"), spec.Route{ID: "p", Name: "p", Paths: []string{"/p"},
		Plugins: spec.Plugins{"request-transformer": []byte(`{"headers":{"set":{"X-Added":"yes"}}}`)}})
	snap.Groups[0].Certificates = []spec.Certificate{ca.Issue(t, "api.example.com").GroupCertificate(t, "api", true)}
	r.publish(t, snap)

	h2 := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example.com"}}}
	for path, want := range map[string]string{"/x": "HTTP/1.1 /x ", "/p": "HTTP/1.1 /p yes"} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+r.tls+path, nil)
		resp, err := h2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s: %s %d %q, want HTTP/2 200 %q", path, resp.Proto, resp.StatusCode, body, want)
		}
	}
	resp, err := h2.Get("https://" + r.tls + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a miss over HTTP/2: %s %d", resp.Proto, resp.StatusCode)
	}
	if _, status, body := httpsGet(t, sniClient(ca, "api.example.com"), r.tls, "api.example.com", "/x"); status != 200 || body != "HTTP/1.1 /x " {
		t.Errorf("HTTP/1.1 over TLS: %d %q", status, body)
	}

	// Session resumption: a client that comes back resumes.
	resume := &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example.com", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i := range 2 {
		c, err := tls.Dial("tcp", r.tls, resume)
		if err != nil {
			t.Fatal(err)
		}
		// TLS 1.3 tickets arrive after the handshake: a round trip reads them.
		_, _ = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n")
		_, _ = io.ReadAll(c)
		if resumed := c.ConnectionState().DidResume; resumed != (i == 1) {
			t.Errorf("connection %d: resumed %v", i+1, resumed)
		}
		c.Close()
	}
}

// Client certificates: a host whose certificate names a client CA asks
// for one and verifies it; mtls-auth admits the application whose
// mtls-auth credential names the certificate's subject, and refuses a
// request without a certificate or with an unknown subject; a certificate
// of another CA fails the handshake; a host without a client CA asks
// for none.
func TestClientCertificates(t *testing.T) { forEachEngine(t, testClientCertificates) }

func testClientCertificates(t *testing.T, engine string) {
	r := start(t, engine)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.WriteString(w, "hello "+req.Header.Get("X-Consumer-Name"))
	})
	ca, clients, strangers := certtest.NewCA(t), certtest.NewCA(t), certtest.NewCA(t)
	snap := snapshotOf(t, 1, be, spec.Route{ID: "x", Name: "x", Paths: []string{"/x"}, Plugins: spec.Plugins{"mtls-auth": []byte(`{}`)}})
	snap.Groups[0].Services[0].ProjectID = "p"
	mutual := ca.Issue(t, "api.example.com").GroupCertificate(t, "api", false)
	mutual.ClientCA = clients.PEM
	snap.Groups[0].Certificates = []spec.Certificate{mutual, ca.Issue(t, "www.example.com").GroupCertificate(t, "www", false)}
	snap.Groups[0].Consumers = []spec.Consumer{{ID: "app-1", Name: "shop-backend", ProjectID: "p",
		Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredMTLSAuth, Key: "client-1.example.com"}}}}
	r.publish(t, snap)

	client := func(host string, cert *certtest.Pair, asked *bool) *http.Client {
		cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: host}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if asked != nil {
				*asked = true
			}
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			c := cert.TLS(t)
			return &c, nil
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	known, unknown, foreign := clients.Issue(t, "client-1.example.com"), clients.Issue(t, "client-2.example.com"), strangers.Issue(t, "client-1.example.com")
	for _, tc := range []struct {
		name   string
		cert   *certtest.Pair
		status int
		body   string
	}{
		{"a known subject", &known, 200, "hello shop-backend"},
		{"no certificate", nil, 401, ""},
		{"an unknown subject", &unknown, 401, ""},
	} {
		_, status, body := httpsGet(t, client("api.example.com", tc.cert, nil), r.tls, "api.example.com", "/x")
		if status != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, body, tc.status, tc.body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+r.tls+"/x", nil)
	if resp, err := client("api.example.com", &foreign, nil).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a certificate of another CA: %d, want a failed handshake", resp.StatusCode)
	}
	asked := false
	if _, status, _ := httpsGet(t, client("www.example.com", &known, &asked), r.tls, "www.example.com", "/x"); asked || status != 401 {
		t.Errorf("a host without a client CA: asked for a certificate %v, answered %d (want not asked, 401)", asked, status)
	}
	// A connection made for one host does not serve another whose
	// certificate trusts other client CAs: a certificate accepted for
	// api.example.com is not taken for www.example.com's routes, nor the
	// other way round.
	for _, tc := range []struct{ sni, host string }{{"api.example.com", "www.example.com"}, {"www.example.com", "api.example.com"}} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+r.tls+"/x", nil)
		req.Host = tc.host
		resp, err := client(tc.sni, &known, nil).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("SNI %s, Host %s: %d, want 421", tc.sni, tc.host, resp.StatusCode)
		}
	}
}

// Over TLS as on the plain address, a request head that could be read two
// ways (two Content-Lengths) is refused before any route.
func TestTLSRequestHeadChecks(t *testing.T) { forEachEngine(t, testTLSRequestHeadChecks) }

func testTLSRequestHeadChecks(t *testing.T, engine string) {
	r := start(t, engine)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) { _, _ = io.WriteString(w, "reached") })
	ca := certtest.NewCA(t)
	snap := snapshotOf(t, 1, be, spec.Route{ID: "x", Name: "x", Paths: []string{"/x"}})
	snap.Groups[0].Certificates = []spec.Certificate{ca.Issue(t, "api.example.com").GroupCertificate(t, "api", true)}
	r.publish(t, snap)
	c, err := tls.Dial("tcp", r.tls, &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example.com", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST /x HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "reached") {
		t.Errorf("two Content-Lengths over TLS: %d %s, want 400", resp.StatusCode, body)
	}
}
