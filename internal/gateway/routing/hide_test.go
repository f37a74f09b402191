package routing

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

func TestHideBackend(t *testing.T) {
	pool := upstream.New(&spec.Upstream{URL: "https://api.third.example/v2"})
	if !pool.Registered || pool.BasePath != "/v2" || pool.PassHost != "node" || pool.Nodes()[0].HostHeader != "api.third.example" {
		t.Fatalf("pool from URL: %+v node %+v", pool, pool.Nodes()[0])
	}
	h := newHideBackend(pool, "/api/gateway")
	tests := []struct{ loc, want string }{
		{"https://api.third.example/v2/orders/7", "/api/gateway/orders/7"},
		{"https://API.third.example:443/v2?x=1", "/api/gateway/?x=1"},
		{"/v2/login", "/api/gateway/login"},
		{"https://api.third.example/other", "https://api.third.example/other"}, // outside the base: left
		{"https://elsewhere.example/v2/x", "https://elsewhere.example/v2/x"},
		{"relative/path", "relative/path"},
		{"//cdn.example/x", "//cdn.example/x"},
	}
	for _, tc := range tests {
		b := plugintest.New("192.0.2.1")
		b.RespHeader.Set("Location", tc.loc)
		b.RespHeader.Set("Server", "thirdparty/1.0")
		b.RespHeader.Set("X-Powered-By", "PHP")
		b.RespHeader.Set("Content-Type", "application/json")
		h.OnResponse(b.Exchange())
		if got := b.RespHeader.Get("Location"); got != tc.want {
			t.Errorf("Location %q → %q, want %q", tc.loc, got, tc.want)
		}
		if b.RespHeader.Get("Server") != "" || b.RespHeader.Get("X-Powered-By") != "" || b.RespHeader.Get("Content-Type") == "" {
			t.Errorf("headers after hiding: %v", b.RespHeader)
		}
	}
}
