package fast

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// benchKey is the key-auth key of the plugins benchmark's consumer:
// longer than 32 bytes, as a key its owner chose can be, where hashing
// the string's bytes would allocate.
const benchKey = "bench-key-0123456789abcdef0123456789abcdef"

// BenchmarkProxyPlugins is BenchmarkProxy through the policies a
// published API typically carries: key-auth, ip-restriction, a local
// limit-count, request-size-limit and a running 50 % canary.
func BenchmarkProxyPlugins(b *testing.B) {
	benchProxy(b, benchPluginsTable(b, fastOrigin(b)), func(h *fasthttp.RequestHeader) { h.Set("apikey", benchKey) })
}

func benchPluginsTable(b *testing.B, origin string) *routing.Table {
	host, port, _ := net.SplitHostPort(origin)
	p, _ := strconv.Atoi(port)
	node := spec.Upstream{Nodes: []spec.Node{{Host: host, Port: p, Weight: 1}}}
	sum := sha256.Sum256([]byte(benchKey))
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g", PathPrefix: "/{project}"},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service: spec.Service{ID: "svc", Name: "svc", Routes: []spec.Route{{
				ID: "items", Name: "items", Paths: []string{"/items/{id}"},
				Plugins: spec.Plugins{
					"key-auth":           []byte(`{"header":"apikey"}`),
					"ip-restriction":     []byte(`{"allow":["127.0.0.1"]}`),
					"limit-count":        []byte(`{"count":1099511627776,"time_window":3600,"key":"remote_addr","policy":"local"}`),
					"request-size-limit": []byte(`{"max_bytes":1048576}`),
				},
			}}},
			Upstream: node,
			Canary:   &spec.CanaryRoute{ID: "c1", Weight: 50, Target: node},
		}},
		Consumers: []spec.Consumer{{ID: "app-1", Name: "app", ProjectID: "shop", Credentials: []spec.ConsumerCredential{
			{ID: "k1", Type: spec.CredKeyAuth, Key: hex.EncodeToString(sum[:])},
		}}},
	}}}
	tbl, err := routing.Build(snap, routing.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	return tbl
}
