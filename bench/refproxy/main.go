// Command refproxy is the benchmark's reference: httputil.ReverseProxy with
// Rewrite and a tuned Transport, the best a plain net/http proxy does
// (the "httputil reference" row of docs/benchmark.md).
//
//	refproxy -addr 127.0.0.1:8082 -upstream http://127.0.0.1:8081 [-stats-addr 127.0.0.1:8083]
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime/metrics"
	"sync"
	"time"
)

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(p []byte) { b.p.Put(&p) }

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	upstream := flag.String("upstream", "http://127.0.0.1:8081", "origin URL")
	stats := flag.String("stats-addr", "", "when set, serve /allocs (heap objects allocated so far) there")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatalf("refproxy: -upstream: %v", err)
	}
	transport := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	pool := &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		},
		Transport:  transport,
		BufferPool: pool,
	}
	if *stats != "" {
		go func() { log.Print(http.ListenAndServe(*stats, http.HandlerFunc(allocs))) }()
	}
	srv := &http.Server{Addr: *addr, Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// allocs answers the number of heap objects allocated since start.
func allocs(w http.ResponseWriter, _ *http.Request) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	fmt.Fprintf(w, "%d\n", s[0].Value.Uint64())
}
