package nethttp

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// The two benchmarks below send the same plain GET through a loopback
// front server to the same loopback origin with the same client, so their
// ns/op and allocs/op compare side by side: the engine (lookup, request id,
// state, balancer, metrics observer) against a bare httputil.ReverseProxy
// on a transport tuned the same way. Allocations of the client and origin
// are in both; metrics are in neither.

var benchBody = []byte(`{"hello":"world","n":42}`)

func benchOrigin(b *testing.B) *httptest.Server {
	b.Helper()
	return enginetest.Backend(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchBody)
	})
}

// benchClient keeps its connections alive, as a load generator would.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

// runProxyBench sends GETs to base+path.
func runProxyBench(b *testing.B, base, path string) {
	cl := benchClient()
	defer cl.CloseIdleConnections()
	url := base + path
	get := func() {
		resp, err := cl.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(benchBody)) {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	get() // warm the connections
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// BenchmarkProxy runs the engine as the gateway does: a Server with its
// default limits; metrics are kept out (the gateway's Prometheus observer
// lives in package gateway).
func BenchmarkProxy(b *testing.B) {
	origin := benchOrigin(b)
	tbl := enginetest.Table(b, "/{project}", enginetest.UpstreamOf(b, origin),
		enginetest.Route("items", "/items/{id}"), enginetest.Route("other", "/other/*"))
	var tp atomic.Pointer[routing.Table]
	tp.Store(tbl)
	base := startNetHTTP(b, enginetest.Config{Table: &tp, Observer: enginetest.Discard{}})
	runProxyBench(b, base, "/shop/items/42")
}

func BenchmarkReverseProxyBaseline(b *testing.B) {
	origin := benchOrigin(b)
	target, _ := url.Parse(origin.URL)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			DisableCompression:    true,
			WriteBufferSize:       16 << 10,
			ReadBufferSize:        16 << 10,
		},
		BufferPool: bufferPool{},
	}
	srv := httptest.NewServer(rp)
	defer srv.Close()
	runProxyBench(b, srv.URL, "/items/42")
}

// bufferPool is refproxy's 32 KiB BufferPool.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }
