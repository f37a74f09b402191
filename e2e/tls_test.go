package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
)

// certificateBody is the admin API's body for a certificate.
func certificateBody(name string, p certtest.Pair, def bool) string {
	b, _ := json.Marshal(map[string]any{"name": name, "certificate": p.Chain, "private_key": p.Key, "default": def})
	return string(b)
}

// httpsGet asks addr (host:port) for path over TLS with SNI name, trusting
// only ca; it answers the leaf served, the status and the body.
func httpsGet(client *http.Client, addr, name, path string) (*x509.Certificate, int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
	req.Host = name
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.TLS.PeerCertificates[0], resp.StatusCode, string(body), err
}

func tlsClient(ca *certtest.CA, name string, keepAlive bool) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: !keepAlive,
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: name}}}
}

// TestHTTPSWithGroupCertificates: certificates added through the admin API
// are served by SNI on the HTTPS listeners of the embedded gateway and of
// a stand-alone one (which opens their keys with the secret key file);
// an expired one is refused; a renewal under load loses no request, and
// new handshakes get the renewed certificate.
func TestHTTPSWithGroupCertificates(t *testing.T) {
	cp := startServer(t, t.TempDir(), "--gateway-tls-addr", "127.0.0.1:0")
	if cp.GatewayTLS == "" {
		t.Fatal("the ready file names no TLS address")
	}
	_, port := backend(t, "tls-backend")
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"secure","path":"/secure"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)

	ca := certtest.NewCA(t)
	pairs := map[string]certtest.Pair{
		"api": ca.Issue(t, "api.example.com"), "www": ca.Issue(t, "www.example.com"),
		"shop": ca.Issue(t, "shop.example.org"), "wild": ca.Issue(t, "*.example.com"),
	}
	for _, name := range []string{"api", "www", "shop", "wild"} {
		cp.do(t, "POST", "/api/v1/gateway-groups/default/certificates", certificateBody(name, pairs[name], name == "wild"), 201, nil)
	}
	waitCertificate(t, cp.GatewayTLS, "pay.example.com", ca) // the wildcard, added last
	expired := ca.IssueValid(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "old.example.com")
	body := cp.do(t, "POST", "/api/v1/gateway-groups/default/certificates", certificateBody("old", expired, false), 400, nil)
	if !strings.Contains(string(body), `"field":"certificate"`) || !strings.Contains(string(body), "expired") {
		t.Errorf("an expired certificate: %s", body)
	}

	var tok struct{ Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"tls gateways"}`, 201, &tok)
	g, err := launchGateway(t, cp, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--heartbeat", "1s",
		"--secret-key-file", filepath.Join(cp.DataDir, "secret.key"), "--gateway-tls-addr", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}

	want := map[string]string{"api.example.com": "api", "www.example.com": "www", "shop.example.org": "shop",
		"pay.example.com": "wild", "unknown.test": "wild"}
	for _, gw := range []*server{cp, g} {
		for sni, name := range want {
			client := tlsClient(ca, sni, false)
			if sni == "unknown.test" { // served the default, which does not name it: compared below, not verified
				client.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
			}
			leaf, status, body, err := httpsGet(client, gw.GatewayTLS, sni, "/secure/x")
			if err != nil {
				t.Fatalf("%s SNI %s: %v", gw.GatewayTLS, sni, err)
			}
			if !leaf.Equal(pairs[name].Leaf) || status != 200 || !strings.Contains(body, `"backend":"tls-backend"`) {
				t.Errorf("%s SNI %s: served %v, answered %d %s; want %s's certificate and the backend", gw.GatewayTLS, sni, leaf.DNSNames, status, body, name)
			}
		}
	}

	// HTTP/2 through TLS to the HTTP/1.1 backend, on both gateways.
	for _, gw := range []*server{cp, g} {
		h2 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
			TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "api.example.com"}}}
		resp, err := h2.Get("https://" + gw.GatewayTLS + "/secure/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !strings.Contains(string(body), `"backend":"tls-backend"`) {
			t.Errorf("%s over HTTP/2: %s %d %s", gw.GatewayTLS, resp.Proto, resp.StatusCode, body)
		}
	}

	// Renewal under load: new connections (a handshake each) and
	// keep-alive ones, none may fail.
	var sent, failed, coolAt atomic.Int64
	var firstErr atomic.Value
	stop, warm, cool := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var warmOnce, coolOnce sync.Once
	coolAt.Store(1 << 62)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			client := tlsClient(ca, "api.example.com", i%2 == 0)
			deadline := time.Now().Add(20 * time.Second)
			for n := 0; n < 5000 && time.Now().Before(deadline); n++ {
				select {
				case <-stop:
					return
				default:
				}
				_, status, _, err := httpsGet(client, g.GatewayTLS, "api.example.com", "/secure/x")
				n := sent.Add(1)
				if n >= 200 {
					warmOnce.Do(func() { close(warm) })
				}
				if n >= coolAt.Load() {
					coolOnce.Do(func() { close(cool) })
				}
				if err != nil || status != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d, %v", status, err))
				}
			}
		})
	}
	waitClosed(t, warm, "200 requests before the renewal")
	renewed := ca.Issue(t, "api.example.com")
	cp.do(t, "PUT", "/api/v1/gateway-groups/default/certificates/api", certificateBody("api", renewed, false), 200, nil)
	for _, gw := range []*server{cp, g} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			leaf, _, _, err := httpsGet(tlsClient(ca, "api.example.com", false), gw.GatewayTLS, "api.example.com", "/secure/x")
			if err == nil && leaf.Equal(renewed.Leaf) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not serve the renewed certificate (err %v)", gw.GatewayTLS, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	coolAt.Store(sent.Load() + 200)
	waitClosed(t, cool, "200 requests after the renewal")
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() == 0 {
		t.Errorf("during the renewal %d of %d requests failed (first: %v)", failed.Load(), sent.Load(), firstErr.Load())
	}
	t.Logf("renewal under load: %d requests, %d failed", sent.Load(), failed.Load())
}

// waitClosed waits for ch to close, at most 30 s.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30 s", what)
	}
}

// TestAdminOverTLS: with --admin-tls-cert and --admin-tls-key the admin
// API, the console and the gateways' feed are served over HTTPS only
// (HTTP/2 offered), the console's cookies are Secure, and a stand-alone
// gateway trusting the private CA (--control-plane-ca) is fed through it.
func TestAdminOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t)
	pair := ca.Issue(t, "127.0.0.1", "localhost")
	certFile, keyFile, caFile := filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key"), filepath.Join(dir, "ca.pem")
	for f, content := range map[string]string{certFile: pair.Chain, keyFile: pair.Key, caFile: ca.PEM} {
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := launch(t, filepath.Join(dir, "data"), "--admin-tls-cert", certFile, "--admin-tls-key", keyFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, cp.out.String())
	}
	plainAdmin := cp.Admin
	cp.Admin = "https://" + strings.TrimPrefix(cp.Admin, "http://")
	cp.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	var login struct{ Token string }
	cp.do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":"admin","password":%q}`, cp.Password), 200, &login)
	cp.Token = login.Token

	if resp, err := http.Get(plainAdmin + "/api/v1/openapi.json"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("the admin API answered over plain HTTP")
		}
	}
	resp, err := cp.client.Get(cp.Admin + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("the console answered over %s, want HTTP/2", resp.Proto)
	}
	cookies := resp.Cookies()
	if len(cookies) == 0 {
		t.Fatal("the login page set no cookie")
	}
	for _, c := range cookies {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure over HTTPS", c.Name)
		}
	}

	_, port := backend(t, "behind-tls-admin")
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"fed","path":"/fed"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	var tok struct{ Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"fed over tls"}`, 201, &tok)
	g, err := launchGateway(t, cp, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--control-plane-ca", caFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	waitFor(t, g.Gateway+"/fed/x", 10*time.Second, func(st int, b []byte) bool {
		return st == 200 && strings.Contains(string(b), `"backend":"behind-tls-admin"`)
	})
}

// waitCertificate waits until the TLS listener at addr completes a
// handshake for name that ca verifies: a certificate added reaches the
// gateway with the next revision.
func waitCertificate(t *testing.T, addr, name string, ca *certtest.CA) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: name})
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not serve a certificate for %s: %v", addr, name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
