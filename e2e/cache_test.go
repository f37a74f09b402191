package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cacheBackend answers every request with a body that counts its calls.
func cacheBackend(t *testing.T, hits *atomic.Int64) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "cache-e2e")
		fmt.Fprintf(w, `{"path":%q,"call":%d}`, r.URL.Path, n)
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestProxyCache: through the real binary on both engines, a second call
// is answered from the gateway's memory (X-Cache-Status: HIT, the backend
// called once), a request with credentials is never cached, and a purge
// through the admin API — by key, then of the whole service — empties
// the cache of the embedded gateway and of a stand-alone one, which
// learns of it only through the configuration feed.
func TestProxyCache(t *testing.T) {
	for _, engine := range attackEngines {
		t.Run(engine, func(t *testing.T) { proxyCache(t, engine) })
	}
}

func proxyCache(t *testing.T, engine string) {
	var hits atomic.Int64
	port := cacheBackend(t, &hits)
	cp := startServer(t, t.TempDir(), "--engine", engine)
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"cached","path":"/cached"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"items","paths":["/items/*"],"methods":["GET","HEAD"],
		"plugins":{"proxy-cache":{"ttl":300}}}`, 201, nil)
	// A configuration that cannot work is refused when saved, naming it.
	b := cp.do(t, "POST", base+"/routes", `{"name":"bad","paths":["/bad"],"plugins":{"proxy-cache":{"cache_method":["POST"]}}}`, 400, nil)
	if !strings.Contains(string(b), "proxy-cache") || !strings.Contains(string(b), "cache_method") {
		t.Errorf("bad configuration answered %s, want the plugin and cache_method named", b)
	}
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	gw := cp.Gateway
	waitFor(t, gw+"/cached/items/warm", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })

	call := func(gw, path string, header map[string]string) (status string, body string, h http.Header) {
		t.Helper()
		resp, b := send(t, "GET", gw+path, header)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return resp.Header.Get("X-Cache-Status"), string(b), resp.Header
	}

	before := hits.Load()
	st, first, h := call(gw, "/cached/items/a", nil)
	if st != "MISS" || hits.Load() != before+1 {
		t.Fatalf("first call: X-Cache-Status %q, backend called %d times; want MISS and one call", st, hits.Load()-before)
	}
	key := h.Get("X-Cache-Key")
	st, second, h := call(gw, "/cached/items/a", nil)
	if st != "HIT" || second != first || hits.Load() != before+1 {
		t.Fatalf("second call: %q %s (first %s), backend called %d times; want a HIT of the same body, one call", st, second, first, hits.Load()-before)
	}
	if h.Get("Age") == "" || h.Get("X-Backend") != "cache-e2e" || h.Get("Content-Type") != "application/json" || h.Get("X-Cache-Key") != key {
		t.Errorf("a hit's headers: %v", h)
	}
	// HEAD is answered from GET's entry (Accept-Encoding is a vary header
	// by default: Go's client sends gzip on a GET, not on a HEAD).
	if resp, body := send(t, "HEAD", gw+"/cached/items/a", map[string]string{"Accept-Encoding": "gzip"}); resp.StatusCode != 200 || resp.Header.Get("X-Cache-Status") != "HIT" || len(body) != 0 {
		t.Errorf("HEAD: %d %q %q", resp.StatusCode, resp.Header.Get("X-Cache-Status"), body)
	}
	// The query is part of the key; a request with credentials bypasses.
	if st, _, _ := call(gw, "/cached/items/a?v=2", nil); st != "MISS" {
		t.Errorf("another query: %s, want MISS", st)
	}
	n := hits.Load()
	for range 2 {
		if st, _, _ := call(gw, "/cached/items/a", map[string]string{"Authorization": "Bearer x"}); st != "BYPASS" {
			t.Errorf("with Authorization: %s, want BYPASS", st)
		}
	}
	if hits.Load() != n+2 {
		t.Errorf("requests with credentials reached the backend %d times, want 2", hits.Load()-n)
	}

	// A stand-alone gateway of the group caches on its own.
	var tok struct{ Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"cache e2e"}`, 201, &tok)
	sa, err := launchGateway(t, cp, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--engine", engine)
	if err != nil {
		t.Fatalf("%v\n%s", err, sa.out.String())
	}
	waitFor(t, sa.Gateway+"/cached/items/warm", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })
	call(sa.Gateway, "/cached/items/a", nil)
	if st, _, _ := call(sa.Gateway, "/cached/items/a", nil); st != "HIT" {
		t.Fatalf("stand-alone gateway's second call: %s, want HIT", st)
	}

	// untilMiss polls a gateway until a purge reached it: hits until then.
	untilMiss := func(gw, path string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			st, _, _ := call(gw, path, nil)
			if st == "MISS" {
				return
			}
			if st != "HIT" || time.Now().After(deadline) {
				t.Fatalf("%s%s after the purge: %s", gw, path, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Purge by key: that entry only.
	call(gw, "/cached/items/b", nil)
	var purge struct {
		Revision int64
		Keys     []string
		Change   struct{ Action string }
	}
	cp.do(t, "POST", base+"/cache/purge", `{"group":"default","keys":["`+key+`"]}`, 200, &purge)
	if purge.Revision == 0 || len(purge.Keys) != 1 || purge.Change.Action != "cache.purge" {
		t.Errorf("purge answered %+v", purge)
	}
	n = hits.Load()
	untilMiss(gw, "/cached/items/a")
	if hits.Load() != n+1 {
		t.Errorf("after the purge the backend was called %d times, want once", hits.Load()-n)
	}
	if st, _, _ := call(gw, "/cached/items/b", nil); st != "HIT" {
		t.Errorf("another key after a purge by key: %s, want HIT", st)
	}
	untilMiss(sa.Gateway, "/cached/items/a")

	// Purge of the whole service, recorded in the history.
	cp.do(t, "POST", base+"/cache/purge", `{"group":"default"}`, 200, nil)
	untilMiss(gw, "/cached/items/b")
	untilMiss(sa.Gateway, "/cached/items/a")
	var hist struct {
		Items []struct{ Action, Detail string }
	}
	cp.do(t, "GET", base+"/history", "", 200, &hist)
	if len(hist.Items) < 2 || hist.Items[0].Action != "cache.purge" || !strings.Contains(hist.Items[0].Detail, "whole") {
		t.Errorf("history: %+v", hist.Items)
	}
	// Refused purges name the field.
	for body, field := range map[string]string{`{}`: "group", `{"group":"default","keys":["nope"]}`: "keys[0]"} {
		if b := cp.do(t, "POST", base+"/cache/purge", body, 400, nil); !strings.Contains(string(b), `"`+field+`"`) {
			t.Errorf("purge %s answered %s, want the field %s", body, b, field)
		}
	}
}
