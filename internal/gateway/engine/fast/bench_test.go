package fast

import (
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// BenchmarkProxy sends a plain GET through the engine to a loopback origin.
// Origin and client are fasthttp too, which allocate nothing per request,
// so allocs/op is the engine's own: the target is 0.
func BenchmarkProxy(b *testing.B) {
	benchProxy(b, benchTable(b, fastOrigin(b)), nil)
}

// benchProxy serves tbl with the fast engine and measures GETs of
// /shop/items/42 through it; header, when given, readies the request.
func benchProxy(b *testing.B, tbl *routing.Table, header func(*fasthttp.RequestHeader)) {
	var tp atomic.Pointer[routing.Table]
	tp.Store(tbl)
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })

	client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 64}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://" + ln.Addr().String() + "/shop/items/42")
	if header != nil {
		header(&req.Header)
	}
	get := func() {
		if err := client.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != 200 || len(resp.Body()) != len(benchBody) {
			b.Fatalf("status %d, body %q", resp.StatusCode(), resp.Body())
		}
	}
	for range 100 { // warm pools and connections
		get()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

var benchBody = []byte(`{"hello":"world","n":42}`)

func fastOrigin(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchBody)
	}}
	go func() { _ = s.Serve(ln) }()
	b.Cleanup(func() { _ = s.Shutdown() })
	return ln.Addr().String()
}

func benchTable(b *testing.B, origin string) *routing.Table {
	host, port, _ := net.SplitHostPort(origin)
	p, _ := strconv.Atoi(port)
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g", PathPrefix: "/{project}"},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service: spec.Service{ID: "svc", Name: "svc", Routes: []spec.Route{
				{ID: "items", Name: "items", Paths: []string{"/items/{id}"}},
				{ID: "other", Name: "other", Paths: []string{"/other/*"}},
			}},
			Upstream: spec.Upstream{Nodes: []spec.Node{{Host: host, Port: p, Weight: 1}}},
		}},
	}}}
	tbl, err := routing.Build(snap, routing.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	return tbl
}

// A proxied request allocates nothing in this engine, plain or through
// the policies of BenchmarkProxyPlugins: a change that makes it allocate
// fails here, not only in a benchmark nobody ran.
func TestProxyAllocatesNothing(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("the race detector allocates on its own")
	}
	for name, bench := range map[string]func(*testing.B){"plain": BenchmarkProxy, "plugins": BenchmarkProxyPlugins} {
		res := testing.Benchmark(bench)
		if a := res.AllocsPerOp(); a != 0 {
			t.Errorf("%s: %d allocations per proxied request, want 0", name, a)
		}
	}
}
