package enginetest

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
)

var upstreamTLSTests = []conformanceTest{
	{name: "UpstreamTLS", fn: testUpstreamTLS},
}

// tlsBackend is an https backend with a certificate of ca for
// backend.test; with clients set it asks for a client certificate of that
// CA and answers the subject it got.
func tlsBackend(t *testing.T, ca *certtest.CA, clients *certtest.CA) spec.Node {
	t.Helper()
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			who = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = io.WriteString(w, "hello "+who)
	}))
	be.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	be.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "backend.test").TLS(t)}}
	if clients != nil {
		be.TLS.ClientAuth, be.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clients.Pool()
	}
	be.StartTLS()
	t.Cleanup(be.Close)
	host, port, _ := net.SplitHostPort(be.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: host, Port: p, Weight: 1}
}

// testUpstreamTLS: an https upstream is verified against the CA it names
// (not the system's roots) under the name it says; a certificate not
// trusted or not of that name is a 502 naming TLS; an upstream that asks
// for a client certificate gets the group certificate the upstream names.
func testUpstreamTLS(t *testing.T, s *suite) {
	ca, clients := certtest.NewCA(t), certtest.NewCA(t)
	plain, mutual := tlsBackend(t, ca, nil), tlsBackend(t, ca, clients)
	client := clients.Issue(t, "gateway.test").GroupCertificate(t, "to-backends", false)
	get := func(n spec.Node, tlsOf spec.UpstreamTLS) (*http.Response, []byte) {
		t.Helper()
		up := spec.Upstream{Scheme: "https", Nodes: []spec.Node{n}, TLS: &tlsOf}
		snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
			Group:        spec.GatewayGroup{Name: "g"},
			Services:     []spec.DeployedService{{ProjectID: "shop", Version: "1.0.0", Service: spec.Service{ID: "svc-id", Name: "svc", Routes: []spec.Route{Route("r", "/r")}}, Upstream: up}},
			Certificates: []spec.Certificate{client},
		}}}
		return Get(t, s.gateway(t, MustBuild(t, snap)).URL+"/r")
	}
	for _, tc := range []struct {
		name   string
		node   spec.Node
		tls    spec.UpstreamTLS
		status int
		want   string
	}{
		{"private CA", plain, spec.UpstreamTLS{CA: ca.PEM, ServerName: "backend.test"}, 200, "hello anonymous"},
		{"system roots", plain, spec.UpstreamTLS{ServerName: "backend.test"}, 502, "upstream_tls"},
		{"another name", plain, spec.UpstreamTLS{CA: ca.PEM, ServerName: "other.test"}, 502, "upstream_tls"},
		{"the node's address as the name", plain, spec.UpstreamTLS{CA: ca.PEM}, 502, "upstream_tls"},
		{"client certificate", mutual, spec.UpstreamTLS{CA: ca.PEM, ServerName: "backend.test", ClientCertificate: "to-backends"}, 200, "hello gateway.test"},
		// With TLS 1.3 the upstream refuses a missing client certificate
		// after the handshake, on the first read: still upstream_tls.
		{"no client certificate", mutual, spec.UpstreamTLS{CA: ca.PEM, ServerName: "backend.test"}, 502, "upstream_tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(tc.node, tc.tls)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 502 {
				if code := WantError(t, resp, body, 502); !slices.Contains(strings.Split(tc.want, "|"), code) {
					t.Errorf("error code %q, want %q", code, tc.want)
				}
			} else if string(body) != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
		})
	}
}
