package enginetest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

var registeredTests = []conformanceTest{
	{name: "RegisteredAPI", fn: testRegisteredAPI},
}

// testRegisteredAPI: an upstream given as a third-party URL (a registered
// API) gets the base path in front, its own Host, a checked
// certificate unless tls_verify is false, and callers never see its
// address: Location points back through the gateway, Server is dropped.
func testRegisteredAPI(t *testing.T, s *suite) {
	var mu sync.Mutex
	var seen struct{ path, host string }
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen.path, seen.host = r.URL.Path, r.Host
		mu.Unlock()
		w.Header().Set("Server", "third-party/1.0")
		w.Header().Set("X-Powered-By", "PHP/8")
		w.Header().Set("Location", "https://"+r.Host+"/v2/orders/7")
		w.WriteHeader(http.StatusCreated)
	}))
	be.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	be.StartTLS()
	t.Cleanup(be.Close)
	addr := be.Listener.Addr().String()
	no := false
	up := spec.Upstream{URL: "https://" + addr + "/v2", TLSVerify: &no}
	g := s.gateway(t, Table(t, "/{project}", up, Route("orders", "/orders")))

	resp, body := Get(t, g.URL+"/shop/orders")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d %s, want 201", resp.StatusCode, body)
	}
	mu.Lock()
	if seen.path != "/v2/orders" || seen.host != addr {
		t.Errorf("backend saw path %q Host %q, want /v2/orders and %s", seen.path, seen.host, addr)
	}
	mu.Unlock()
	if got := resp.Header.Get("Location"); got != "/shop/orders/7" {
		t.Errorf("Location %q, want /shop/orders/7 (the gateway's path for it)", got)
	}
	if resp.Header.Get("Server") != "" || resp.Header.Get("X-Powered-By") != "" {
		t.Errorf("backend-identifying headers reached the caller: %v", resp.Header)
	}

	// Verified by default: the test server's certificate is not trusted.
	verified := spec.Upstream{URL: "https://" + addr + "/v2"}
	g2 := s.gateway(t, Table(t, "/{project}", verified, Route("orders", "/orders")))
	resp, body = Get(t, g2.URL+"/shop/orders")
	WantError(t, resp, body, http.StatusBadGateway)
}
