package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
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
func TestHTTPSListener(t *testing.T) {
	r := start(t, EngineFast)
	be := backendServer(t, func(w http.ResponseWriter, req *http.Request) { _, _ = io.WriteString(w, "hello "+req.URL.Path) })
	ca := certtest.NewCA(t)
	api, wild := ca.Issue(t, "api.example.com"), ca.Issue(t, "*.example.com")
	snap := snapshotOf(t, 1, be, named("x"))
	snap.Groups[0].Certificates = []spec.Certificate{api.GroupCertificate(t, "api", false), wild.GroupCertificate(t, "wild", true)}
	r.publish(t, snap)

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
