package nethttp

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// rawGateway serves a table with one route /r on a raw backend.
func rawGateway(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	addr := enginetest.RawBackend(t, serve)
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamAt(t, addr), enginetest.Route("r", "/r")))
	return startNetHTTP(t, enginetest.Config{Table: &tp, Observer: enginetest.Discard{}})
}

// serveRequests reads requests on c and answers each with answer(i, req);
// it stops when answer returns "" (after closing c).
func serveRequests(c net.Conn, answer func(i int, req *http.Request) string) {
	br := bufio.NewReader(c)
	for i := 0; ; i++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		a := answer(i, req)
		if a == "" {
			c.Close()
			return
		}
		if _, err := io.WriteString(c, a); err != nil {
			return
		}
	}
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// A backend that closes each connection after one answer, without saying
// so: the gateway's next request on it is sent again on a new one.
func TestH1StaleConnectionRetried(t *testing.T) {
	var conns atomic.Int32
	closed := make(chan struct{}, 8)
	base := rawGateway(t, func(c net.Conn) {
		conns.Add(1)
		defer func() {
			c.Close()
			closed <- struct{}{}
		}()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	for i := range 4 {
		if resp, body := get(t, http.MethodGet, base+"/r"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode, body)
		}
		// The backend has closed the connection it answered on (on
		// loopback its FIN is queued by then): the next request finds a
		// stale connection in the pool.
		select {
		case <-closed:
		case <-time.After(enginetest.WaitLimit):
			t.Fatalf("GET %d: the backend never closed its connection", i)
		}
	}
	// A bodiless POST must not be sent twice: the pool checks the
	// connection before using it.
	if resp, body := get(t, http.MethodPost, base+"/r"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("POST: %d %q", resp.StatusCode, body)
	}
	if n := conns.Load(); n != 5 {
		t.Errorf("%d backend connections, want 5 (one per request)", n)
	}
}

// Answers that end with the connection (Connection: close, a body read
// until close) are not reused; keep-alive ones are.
func TestH1ConnectionReuse(t *testing.T) {
	var conns atomic.Int32
	base := rawGateway(t, func(c net.Conn) {
		conns.Add(1)
		serveRequests(c, func(_ int, req *http.Request) string {
			switch req.URL.Query().Get("a") {
			case "close":
				return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nclose"
			case "eof":
				c.Write([]byte("HTTP/1.1 200 OK\r\n\r\nuntil eof"))
				c.Close()
				return ""
			}
			return "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkeep"
		})
	})
	for _, tc := range []struct{ q, want string }{
		{"keep", "keep"}, {"keep", "keep"}, {"close", "close"}, {"keep", "keep"}, {"eof", "until eof"}, {"keep", "keep"},
	} {
		resp, body := get(t, http.MethodGet, base+"/r?a="+tc.q)
		if resp.StatusCode != 200 || body != tc.want {
			t.Fatalf("%s: %d %q, want 200 %q", tc.q, resp.StatusCode, body, tc.want)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d backend connections, want 3", n)
	}
}

// What the backend receives: the request line, Host, the framing of a
// bodiless POST, no Go User-Agent of the gateway's own.
func TestH1RequestHead(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	base := rawGateway(t, func(c net.Conn) {
		serveRequests(c, func(_ int, req *http.Request) string {
			mu.Lock()
			seen = append(seen, req)
			mu.Unlock()
			return "HTTP/1.1 204 No Content\r\n\r\n"
		})
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/r?x=1&y=%2F", nil)
	req.Host = "client.example"
	req.Header.Set("User-Agent", "")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("backend saw %d requests", len(seen))
	}
	r := seen[0]
	if r.Method != "POST" || r.RequestURI != "/r?x=1&y=%2F" || r.Host != "client.example" {
		t.Errorf("backend saw %s %s Host %s", r.Method, r.RequestURI, r.Host)
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Length") != "0" {
		t.Errorf("bodiless POST sent with Content-Length %q", r.Header.Get("Content-Length"))
	}
	if ua, ok := r.Header["User-Agent"]; ok {
		t.Errorf("User-Agent %q sent, want none", ua)
	}
	if got := strings.Join(r.Header.Values("X-Multi"), ","); got != "a,b" {
		t.Errorf("X-Multi %q, want a,b", got)
	}
}

// 103 Early Hints reach the client before the answer, which keeps its
// X-Request-Id; HEAD answers have no body.
func TestH1InformationalAndHead(t *testing.T) {
	base := rawGateway(t, func(c net.Conn) {
		serveRequests(c, func(_ int, req *http.Request) string {
			if req.Method == http.MethodHead {
				return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			}
			return "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		})
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(enginetest.WaitLimit))
	br := bufio.NewReader(conn)
	io.WriteString(conn, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	early, err := http.ReadResponse(br, nil)
	if err != nil || early.StatusCode != 103 || early.Header.Get("Link") == "" {
		t.Fatalf("first answer %v %v, want 103 with Link", early, err)
	}
	final, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(final.Body)
	if final.StatusCode != 200 || string(body) != "ok" || final.Header.Get("X-Request-Id") == "" || final.Header.Get("Link") != "" {
		t.Errorf("final answer %d %q, headers %v", final.StatusCode, body, final.Header)
	}
	io.WriteString(conn, "HEAD /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	if err != nil || head.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", head, err)
	}
	io.WriteString(conn, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	if next, err := http.ReadResponse(br, nil); err != nil || next.StatusCode != 103 {
		t.Fatalf("after HEAD: %v %v", next, err)
	}
}

// The pool closes connections idle longer than its timeout.
func TestH1PoolSweepsIdle(t *testing.T) {
	p := &h1Pool{maxIdle: 4, idleTimeout: 50 * time.Millisecond}
	a, b := net.Pipe()
	defer b.Close()
	p.put(newH1Conn(a))
	deadline := time.Now().Add(enginetest.WaitLimit)
	for {
		p.mu.Lock()
		n := len(p.idle)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle connection never swept")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = b.SetReadDeadline(time.Now().Add(enginetest.WaitLimit))
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("swept connection not closed: %v", err)
	}
}

// Served without NewServer (no client connection of the engine's own), a
// client leaving still aborts the upstream exchange, through the request's
// context.
func TestH1DepartureWithoutServer(t *testing.T) {
	started := make(chan struct{}, 1)
	cancelled := make(chan struct{})
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hang") == "" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(enginetest.WaitLimit):
		}
	})
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("r", "/r")))
	h := New(&tp, enginetest.Discard{}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.CloseIdle()
	if resp, body := get(t, http.MethodGet, srv.URL+"/r"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/r?hang=1", nil)
	go func() {
		<-started
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	select {
	case <-cancelled:
	case <-time.After(enginetest.WaitLimit):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
}
