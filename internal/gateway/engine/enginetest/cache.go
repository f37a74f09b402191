package enginetest

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
)

// cacheTests drive proxy-cache through the engine: what it asks of the
// engine (plugin.ResponseCapturer: the backend's answer handed over after
// it streamed to the client, small or streamed, chunked or not; a hit
// answered with stored headers and body) must work the same on every
// engine.
var cacheTests = []conformanceTest{
	{name: "PluginProxyCache", fn: testPluginProxyCache},
}

func testPluginProxyCache(t *testing.T, s *suite) {
	var hits atomic.Int64
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB: streamed, not read whole
	up := countingBackend(t, &hits, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Header", "kept")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("X-Many", "a")
		w.Header().Add("X-Many", "b")
		switch r.URL.Path {
		case "/c/big":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write(big)
		case "/c/chunked", "/c/over":
			n := 3000
			if r.URL.Path == "/c/over" {
				n = 5000
			}
			for range n / 500 {
				_, _ = w.Write(bytes.Repeat([]byte("c"), 500))
				w.(http.Flusher).Flush()
			}
		case "/c/fail":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("broken"))
		default:
			_, _ = w.Write([]byte("small " + r.URL.Path))
		}
	})
	g := s.gateway(t, Table(t, "", up, withPlugins(Route("cached", "/c/*"), map[string]string{
		"proxy-cache": `{"max_entry_size": 4096, "memory_size": 1048576, "vary": []}`}),
		withPlugins(Route("big", "/c/big"), map[string]string{"proxy-cache": `{"max_entry_size": 1048576, "vary": []}`})))

	get := func(path, wantCache string, wantBody []byte) http.Header {
		t.Helper()
		resp, body := Get(t, g.URL+path)
		if got := resp.Header.Get("X-Cache-Status"); got != wantCache {
			t.Errorf("%s: X-Cache-Status %q, want %q", path, got, wantCache)
		}
		if wantBody != nil && !bytes.Equal(body, wantBody) {
			t.Errorf("%s: body of %d bytes (%.20q…), want %d (%.20q…)", path, len(body), body, len(wantBody), wantBody)
		}
		return resp.Header
	}
	for _, c := range []struct {
		path string
		body []byte
	}{
		{"/c/small", []byte("small /c/small")},
		{"/c/chunked", bytes.Repeat([]byte("c"), 3000)},
		{"/c/big", big},
	} {
		before := hits.Load()
		get(c.path, "MISS", c.body)
		get("/c/other-"+c.path[3:], "MISS", nil) // reuses the engine's buffers before the hit
		h := get(c.path, "HIT", c.body)
		if n := hits.Load() - before; n != 2 {
			t.Errorf("%s: the backend was called %d times for a miss, another path and a hit; want 2", c.path, n)
		}
		if h.Get("X-Backend-Header") != "kept" || h.Get("Content-Type") != "text/plain" || h.Get("Age") == "" ||
			h.Get("X-Request-Id") == "" || h.Get("X-Many") != "a, b" {
			t.Errorf("%s: a hit's headers %v", c.path, h)
		}
	}
	// Over max_entry_size: the client gets all of it, nothing is stored.
	over := bytes.Repeat([]byte("c"), 5000)
	get("/c/over", "MISS", over)
	get("/c/over", "MISS", over)
	// A status not cached.
	get("/c/fail", "MISS", []byte("broken"))
	get("/c/fail", "MISS", []byte("broken"))
}
