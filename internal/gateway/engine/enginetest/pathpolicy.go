package enginetest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// pathPolicyTests check that no spelling of a path reaches a route's
// backend past another route's policies: routing, plugins and the backend
// see one normalised path, or the request is refused.
var pathPolicyTests = []conformanceTest{
	{name: "PathNormalisationKeepsRoutePolicies", fn: testPathNormalisation},
	{name: "ClientIdentityHeadersNeverReachBackend", fn: testIdentityHeaders},
	{name: "PipelinedBadHeadRefused", fn: testPipelinedBadHead},
}

// TargetRecorder is a backend that records the exact request target of
// every request it gets (net/http gives it unparsed in RequestURI).
type TargetRecorder struct {
	mu      sync.Mutex
	targets []string
}

func (b *TargetRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.targets = append(b.targets, r.RequestURI)
	b.mu.Unlock()
	_, _ = w.Write([]byte("backend"))
}

// Take returns the targets seen since the last Take.
func (b *TargetRecorder) Take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.targets
	b.targets = nil
	return t
}

// denyAll refuses every request: the "private" route's policy.
type denyAll struct{}

func (denyAll) OnRequest(ex *plugin.Exchange) bool {
	ex.Reject(http.StatusForbidden, "forbidden", "private")
	return true
}

// PathCases are request paths that try to reach /private/ through the
// public route, with what the gateway must do: refuse (400), apply the
// private route's policy (403), or pass to the public route's backend
// with exactly the normalised path.
var PathCases = []struct {
	Raw     string
	Status  int
	Backend string // the target the backend must get on a 200
}{
	{"/public/../private/secret", 403, ""},
	{"/public/%2e%2e/private/secret", 403, ""},
	{"/public/%2E%2E/private/secret", 403, ""},
	{"/public/.%2e/private/secret", 403, ""},
	{"/public/%2e./private/secret", 403, ""},
	{"/public/x/../../private/secret", 403, ""},
	{"/public/./../private/secret", 403, ""},
	{"/public/..%2fprivate/secret", 400, ""},
	{"/public%2f..%2fprivate/secret", 400, ""},
	{"/public/..%2Fprivate/secret", 400, ""},
	{"/public/..;/private/secret", 400, ""},
	{"/public;x/../private/secret", 400, ""},
	{"/public/%3b/../private/secret", 400, ""},
	{"/public/..\\private/secret", 400, ""},
	{"/public/..%5cprivate/secret", 400, ""},
	{"/public/%00/../private/secret", 400, ""},
	{"/public/%0a/secret", 400, ""},
	{"/public/%zz/secret", 400, ""},
	{"/public//../private/secret", 403, ""}, // slashes merged first, as nginx and path.Clean do
	{"//public//x", 200, "/public/x"},
	{"/public/./x", 200, "/public/x"},
	{"/public/x/..", 200, "/public/"},
	{"/public/a%20b", 200, "/public/a%20b"},
	{"/public/%41%7e", 200, "/public/A~"},
	{"/public/q%3Fx%23y", 200, "/public/q%3Fx%23y"},
	{"/public/caf%C3%A9", 200, "/public/caf%C3%A9"},
	{"/public/x?a=/../private", 200, "/public/x?a=/../private"},
	{"/private/../public/x", 200, "/public/x"},
}

// PathPolicyTable is a table with a public route (/public/*, no plugin)
// and a private one (/private/*, refusing every request with 403) on up.
func PathPolicyTable(t testing.TB, backend *TargetRecorder) *routing.Table {
	t.Helper()
	tbl := Table(t, "", UpstreamOf(t, Backend(t, backend.ServeHTTP)),
		Route("public", "/public/*"), Route("private", "/private/*"))
	rt := RouteOf(t, tbl, "GET", "/private/x")
	rt.AddRequestFilter(denyAll{})
	return tbl
}

func testPathNormalisation(t *testing.T, s *suite) {
	var be TargetRecorder
	g := s.gateway(t, PathPolicyTable(t, &be))
	for _, tc := range PathCases {
		status, body := RawGet(t, g.Addr, tc.Raw, "")
		seen := be.Take()
		if status != tc.Status {
			t.Errorf("%s: status %d (%s), want %d; backend saw %q", tc.Raw, status, body, tc.Status, seen)
			continue
		}
		switch {
		case tc.Status != 200 && len(seen) != 0:
			t.Errorf("%s: refused with %d but the backend saw %q", tc.Raw, status, seen)
		case tc.Status == 200 && (len(seen) != 1 || seen[0] != tc.Backend):
			t.Errorf("%s: backend saw %q, want exactly %q", tc.Raw, seen, tc.Backend)
		}
	}
}

// RawGet sends "GET target" with extra header lines (each ending in CRLF)
// on a fresh connection, exactly as written, and returns the status and
// body of the answer.
func RawGet(t testing.TB, addr, target, headers string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, WaitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(WaitLimit))
	if _, err := c.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: gw\r\n" + headers + "Connection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// Agreement checks, for one request path at a time, the property a fuzz
// target wants: the gateway refuses the path (400), or the backend
// receives exactly the escaped form of the path routing matched — a path
// that decodes to the matched one and that no normalisation changes
// further. It keeps one keep-alive connection while the gateway does.
type Agreement struct {
	addr    string
	be      *TargetRecorder
	matched *MatchedPath
	conn    net.Conn
	br      *bufio.Reader
}

// Check sends GET target and checks the property.
func (a *Agreement) Check(t testing.TB, target string) {
	t.Helper()
	if a.conn == nil {
		c, err := net.DialTimeout("tcp", a.addr, WaitLimit)
		if err != nil {
			t.Fatal(err)
		}
		a.conn, a.br = c, bufio.NewReader(c)
	}
	_ = a.conn.SetDeadline(time.Now().Add(WaitLimit))
	if _, err := a.conn.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: gw\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(a.br, nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Close {
		a.conn.Close()
		a.conn = nil
	}
	seen := a.be.Take()
	got := a.matched.Take()
	if resp.StatusCode == http.StatusBadRequest {
		if len(seen) != 0 {
			t.Fatalf("%q refused but the backend saw %q", target, seen)
		}
		return
	}
	if resp.StatusCode != http.StatusOK || len(seen) != 1 || len(got) != 1 {
		t.Fatalf("%q: status %d (%s), backend saw %q, router matched %q", target, resp.StatusCode, body, seen, got)
	}
	recv, _, _ := strings.Cut(seen[0], "?")
	dec, err := url.PathUnescape(recv)
	if err != nil || dec != got[0] {
		t.Fatalf("%q: router matched %q, backend received %q (decodes to %q, %v)", target, got[0], recv, dec, err)
	}
	if norm, _, reason := reqpolicy.Normalize(nil, []byte(recv)); reason != "" || string(norm) != dec {
		t.Fatalf("%q: backend received %q, which a normalising backend reads as %q (%s)", target, recv, norm, reason)
	}
}

// MatchedPath is a filter recording the path routing matched (as plugins
// see it).
type MatchedPath struct {
	mu    sync.Mutex
	paths []string
}

func (m *MatchedPath) OnRequest(ex *plugin.Exchange) bool {
	m.mu.Lock()
	m.paths = append(m.paths, ex.Path())
	m.mu.Unlock()
	return false
}

// Take returns the paths recorded since the last Take.
func (m *MatchedPath) Take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.paths
	m.paths = nil
	return p
}

// AgreementGateway starts the engine with one catch-all route whose
// matched path is recorded, for Agreement.Check.
func AgreementGateway(t testing.TB, start Start) *Agreement {
	t.Helper()
	a := &Agreement{be: &TargetRecorder{}, matched: &MatchedPath{}}
	tbl := Table(t, "", UpstreamOf(t, Backend(t, a.be.ServeHTTP)), Route("all", "/*"))
	rt := RouteOf(t, tbl, "GET", "/x")
	rt.AddRequestFilter(a.matched)
	a.addr = StartGateway(t, start, tbl, Limits{}).Addr
	t.Cleanup(func() {
		if a.conn != nil {
			a.conn.Close()
		}
	})
	return a
}

// FuzzPath turns fuzz bytes into a request path made of the pieces path
// attacks are made of.
func FuzzPath(b []byte) string {
	pieces := []string{"/", ".", "..", "%2e", "%2E", "%2f", "%2F", ";", "\\", "%5c", "a", "b", "%41", "%25", "//", "%00", "?"}
	var sb strings.Builder
	sb.WriteByte('/')
	for _, c := range b {
		sb.WriteString(pieces[int(c)%len(pieces)])
	}
	return sb.String()
}

func testIdentityHeaders(t *testing.T, s *suite) {
	var mu sync.Mutex
	var seen http.Header
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
	})
	tbl := Table(t, "", UpstreamOf(t, be), Route("open", "/open"), Route("authed", "/authed"))
	rt := RouteOf(t, tbl, "GET", "/authed")
	rt.AddRequestFilter(setConsumer{})
	g := s.gateway(t, tbl)

	spoof := "X-Consumer-Id: evil\r\nX_Consumer_Id: evil\r\nx-consumer-name: evil\r\nX-Consumer-Custom: evil\r\n" +
		"X_Forwarded_For: 6.6.6.6\r\nX_Request_Id: evil\r\nX_Real_IP: 6.6.6.6\r\n"
	for _, path := range []string{"/open", "/authed"} {
		if status, body := RawGet(t, g.Addr, path, spoof); status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		mu.Lock()
		h := seen
		mu.Unlock()
		for k, vv := range h {
			for _, v := range vv {
				if v == "evil" || v == "6.6.6.6" {
					t.Errorf("%s: the backend got the client's %s: %s", path, k, v)
				}
			}
		}
		if path == "/authed" && h.Get("X-Consumer-Id") != "app-1" {
			t.Errorf("%s: X-Consumer-Id = %q, want the gateway's app-1", path, h.Get("X-Consumer-Id"))
		}
	}
	// A Connection header naming a header the gateway sets must not make
	// it drop its own.
	for _, conn := range []string{"close, X-Consumer-Id", "X-Consumer-Id, X-Consumer-Name", "keep-alive, x-consumer-id"} {
		if status, body := RawGet(t, g.Addr, "/authed", "Connection: "+conn+"\r\n"); status != 200 {
			t.Fatalf("Connection: %s: %d %s", conn, status, body)
		}
		mu.Lock()
		h := seen
		mu.Unlock()
		if h.Get("X-Consumer-Id") != "app-1" || h.Get("X-Consumer-Name") != "app" {
			t.Errorf("Connection: %s: the backend got X-Consumer-Id %q, X-Consumer-Name %q; want the gateway's", conn,
				h.Get("X-Consumer-Id"), h.Get("X-Consumer-Name"))
		}
	}
}

// setConsumer stands for an authentication plugin: it names the consumer
// to the backend.
type setConsumer struct{}

func (setConsumer) OnRequest(ex *plugin.Exchange) bool {
	ex.SetUpstreamHeader("X-Consumer-Id", "app-1")
	ex.SetUpstreamHeader("X-Consumer-Name", "app")
	return false
}

// testPipelinedBadHead: a well-formed request then an ambiguous one on the
// same connection: the first is served, the second refused before it
// reaches the backend.
func testPipelinedBadHead(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gateway(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")))
	conn, br := dial(t, g.Addr)
	write(t, conn, "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello"+
		"POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello")
	if resp, body := readResponse(t, br, http.MethodPost); resp.StatusCode != 200 {
		t.Fatalf("first request: %d %s", resp.StatusCode, body)
	}
	if resp, body := readResponse(t, br, http.MethodPost); resp.StatusCode != 400 {
		t.Fatalf("second request (two Content-Length): %d %s, want 400", resp.StatusCode, body)
	}
	if seen := be.requests(); len(seen) != 1 || seen[0].body != "hello" {
		t.Errorf("backend saw %+v, want only the first request", seen)
	}
}
