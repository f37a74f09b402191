package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The attacks of a penetration test on the gateway's request handling,
// against the real binary on both engines: spellings of a path that walk
// from a public route into a protected one, identity headers a client
// makes up, and request heads two parsers could read differently. Each
// must be refused, or reach the backend as exactly the request the
// gateway's policies were applied to.

// rawBackend records the exact request target and the headers of every
// request it gets, and answers 200.
type rawBackend struct {
	mu    sync.Mutex
	seen  []seenByBackend
	conns map[net.Conn]bool // open, closed by the test's cleanup
	port  int
}

type seenByBackend struct {
	target string
	header http.Header
}

func startRawBackend(t *testing.T) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{port: ln.Addr().(*net.TCPAddr).Port, conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns[c] = true
			b.mu.Unlock()
			wg.Go(func() { b.serve(c) })
		}
	})
	// The gateway keeps its upstream connections open: close them, or the
	// cleanup waits for each one's read deadline.
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		wg.Wait()
	})
	return b
}

func (b *rawBackend) serve(c net.Conn) {
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		b.mu.Lock()
		b.seen = append(b.seen, seenByBackend{target: req.RequestURI, header: req.Header})
		b.mu.Unlock()
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nbackend")); err != nil {
			return
		}
	}
}

// take returns what the backend saw since the last take.
func (b *rawBackend) take() []seenByBackend {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen
	b.seen = nil
	return s
}

// rawRequest writes request to addr exactly as given and returns the
// status of the answer (0 when the gateway closed without one).
func rawRequest(t *testing.T, addr, request string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

const attackKey = "attack-key-0123456789abcdef"

func TestAttackGateway(t *testing.T) {
	for _, engine := range attackEngines {
		t.Run(engine, func(t *testing.T) { attackGateway(t, engine) })
	}
}

func attackGateway(t *testing.T, engine string) {
	s := startServer(t, t.TempDir(), "--engine", engine)
	be := startRawBackend(t)
	svcs := "/api/v1/projects/default/services"
	s.do(t, "POST", svcs, `{"name":"probe"}`, 201, nil)
	for _, r := range []string{
		`{"name":"public","paths":["/anything/public/*"],"methods":["GET","POST"]}`,
		`{"name":"private","paths":["/anything/private/*"],"methods":["GET","POST"],"plugins":{"key-auth":{}}}`,
		`{"name":"denied","paths":["/anything/denied/*"],"methods":["GET","POST"],"plugins":{"ip-restriction":{"deny":["127.0.0.1"]}}}`,
		`{"name":"small","paths":["/anything/small/*"],"methods":["GET","POST"],"plugins":{"request-size-limit":{"max_bytes":4}}}`,
	} {
		s.do(t, "POST", svcs+"/probe/routes", r, 201, nil)
	}
	s.do(t, "POST", svcs+"/probe/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(be.port)), 201, nil)
	var app struct{ ID string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"prober","project":"default"}`, 201, &app)
	s.do(t, "POST", "/api/v1/applications/"+app.ID+"/credentials", `{"type":"key-auth","key":"`+attackKey+`"}`, 201, nil)
	addr := strings.TrimPrefix(s.Gateway, "http://")
	get := func(target, headers string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: gw\r\n" + headers + "Connection: close\r\n\r\n"
	}
	waitFor(t, s.Gateway+"/anything/private/x?apikey="+attackKey, 10*time.Second, func(status int, _ []byte) bool { return status == 200 })
	be.take()

	t.Run("paths walk past no route policy", func(t *testing.T) {
		for _, route := range []struct {
			name   string
			status int // the route's own refusal
		}{{"private", 401}, {"denied", 403}} {
			for _, tc := range []struct{ spelling, want string }{
				{"/anything/public/../%s/secret", "policy"},
				{"/anything/public/%%2e%%2e/%s/secret", "policy"},
				{"/anything/public/%%2E%%2e/%s/secret", "policy"},
				{"/anything/public/.%%2e/%s/secret", "policy"},
				{"/anything/public//../%s/secret", "policy"},
				{"/anything/public/x/../../%s/secret", "policy"},
				{"/anything/public/./../%s/secret", "policy"},
				{"/anything/public/..%%2f%s/secret", "refused"},
				{"/anything/public%%2f..%%2f%s/secret", "refused"},
				{"/anything/public/..;/%s/secret", "refused"},
				{"/anything/public/..\\%s/secret", "refused"},
				{"/anything/public/..%%5c%s/secret", "refused"},
				{"/anything/public/%%00/../%s/secret", "refused"},
			} {
				target := fmt.Sprintf(tc.spelling, route.name)
				want := 400
				if tc.want == "policy" {
					want = route.status
				}
				if got := rawRequest(t, addr, get(target, "")); got != want {
					t.Errorf("%s: status %d, want %d", target, got, want)
				}
				if seen := be.take(); len(seen) != 0 {
					t.Errorf("%s: the backend got %q", target, seen[0].target)
				}
			}
		}
		// The size limit of a route holds whatever the spelling.
		body := "POST /anything/public/../small/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789"
		if got := rawRequest(t, addr, body); got != 413 {
			t.Errorf("a 10-byte body to the 4-byte route through a dot segment: %d, want 413", got)
		}
		be.take()
		// What passes reaches the backend as the path that was matched.
		for target, want := range map[string]string{
			"/anything/public/./a//b/../c":  "/anything/public/a/c",
			"/anything/private/../public/x": "/anything/public/x",
			"/anything/public/caf%C3%A9":    "/anything/public/caf%C3%A9",
			"/anything/public/%61%62?q=../": "/anything/public/ab?q=../",
		} {
			if got := rawRequest(t, addr, get(target, "")); got != 200 {
				t.Errorf("%s: status %d, want 200", target, got)
			}
			if seen := be.take(); len(seen) != 1 || seen[0].target != want {
				t.Errorf("%s: the backend got %v, want exactly %q", target, seen, want)
			}
		}
	})

	t.Run("client identity headers never reach the backend", func(t *testing.T) {
		spoof := "X-Consumer-Id: evil\r\nX_Consumer_Id: evil\r\nX-Consumer-Name: evil\r\nX_Forwarded_For: 6.6.6.6\r\n"
		for _, target := range []string{"/anything/public/x", "/anything/private/x?apikey=" + attackKey} {
			if got := rawRequest(t, addr, get(target, spoof)); got != 200 {
				t.Fatalf("%s: status %d", target, got)
			}
			seen := be.take()
			if len(seen) != 1 {
				t.Fatalf("%s: backend saw %d requests", target, len(seen))
			}
			for k, vv := range seen[0].header {
				for _, v := range vv {
					if v == "evil" || v == "6.6.6.6" {
						t.Errorf("%s: the backend got the client's %s: %s", target, k, v)
					}
				}
			}
		}
		// Naming the gateway's headers in Connection does not remove them.
		for _, conn := range []string{"close, X-Consumer-Id", "X-Consumer-Id, X-Consumer-Name"} {
			req := "GET /anything/private/x HTTP/1.1\r\nHost: gw\r\napikey: " + attackKey + "\r\nConnection: " + conn + "\r\n\r\n"
			if got := rawRequest(t, addr, req); got != 200 {
				t.Fatalf("Connection: %s: status %d", conn, got)
			}
			seen := be.take()
			if len(seen) != 1 || seen[0].header.Get("X-Consumer-Id") != app.ID || seen[0].header.Get("X-Consumer-Name") != "prober" {
				t.Errorf("Connection: %s: the backend got %v, want X-Consumer-Id %s and X-Consumer-Name prober", conn, seen, app.ID)
			}
		}
	})

	t.Run("ambiguous heads are refused before the backend", func(t *testing.T) {
		for name, req := range map[string]string{
			"Content-Length with chunked": "POST /anything/public/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			"two equal Content-Length":    "POST /anything/public/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
			"obs-fold":                    "GET /anything/public/x HTTP/1.1\r\nHost: gw\r\nX-A: 1\r\n folded\r\n\r\n",
			"HTTP/9.9":                    "GET /anything/public/x HTTP/9.9\r\nHost: gw\r\n\r\n",
			"Host with userinfo":          "GET /anything/public/x HTTP/1.1\r\nHost: a.example:1@b.example\r\n\r\n",
			"broken chunk":                "POST /anything/public/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
		} {
			got := rawRequest(t, addr, req)
			want := 400
			if name == "HTTP/9.9" {
				want = 505 // a version that is not 1.x, by both engines
			}
			if got != want {
				t.Errorf("%s: status %d, want %d", name, got, want)
			}
			if seen := be.take(); len(seen) != 0 {
				t.Errorf("%s: the backend got %v", name, seen)
			}
		}
	})
}
