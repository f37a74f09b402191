package enginetest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var smugglingTests = []conformanceTest{
	{name: "RequestSmuggling", fn: testRequestSmuggling},
}

// seenRequest is what a recording backend received.
type seenRequest struct {
	method, path string
	header       http.Header
	body         string
}

// recordingBackend records every request it receives and answers 200.
type recordingBackend struct {
	mu   sync.Mutex
	seen []seenRequest
}

func (b *recordingBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body strings.Builder
	buf := make([]byte, 4<<10)
	for {
		n, err := r.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	b.mu.Lock()
	b.seen = append(b.seen, seenRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body.String()})
	b.mu.Unlock()
	_, _ = w.Write([]byte("backend answer"))
}

func (b *recordingBackend) requests() []seenRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.seen)
}

// smuggledRequest rides in a body: a backend that frames the body
// differently from the gateway would take it for a request of its own.
const smuggledRequest = "GET /r/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n"

type smugglingCase struct {
	name    string
	request string
	// refuse lists the statuses that count as a refusal; nil means 400.
	refuse []int
}

func smugglingCases() []smugglingCase {
	get := func(header string) string {
		return "GET /r HTTP/1.1\r\nHost: gw\r\n" + header + "\r\nX-After: 1\r\n\r\n"
	}
	chunkedBody := "5\r\nhello\r\n0\r\n\r\n"
	post := func(headers ...string) string {
		return "POST /r HTTP/1.1\r\nHost: gw\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n" + chunkedBody
	}
	clAndChunked := "0\r\n\r\n" + smuggledRequest
	teRefusal := []int{http.StatusBadRequest, http.StatusNotImplemented} // RFC 9112 §6.1: 501 for an unknown coding
	return []smugglingCase{
		{name: "Content-Length with chunked",
			request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: " + strconv.Itoa(len(clAndChunked)) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + clAndChunked},
		{name: "chunked with Content-Length after it",
			request: "POST /r HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(clAndChunked)) + "\r\n\r\n" + clAndChunked},
		{name: "two equal Content-Length",
			request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
		{name: "two different Content-Length",
			request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: " + strconv.Itoa(5+len(smuggledRequest)) + "\r\n\r\nhello" + smuggledRequest},
		{name: "Content-Length not a number", request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: +5\r\n\r\nhello"},
		{name: "obs-fold with space", request: get("X-Folded: first\r\n second")},
		{name: "obs-fold with tab", request: get("X-Folded: first\r\n\tsecond")},
		{name: "obs-fold right after the request line", request: "GET /r HTTP/1.1\r\n X-Folded: first\r\nHost: gw\r\n\r\n"},
		{name: "space inside a header name", request: get("X Bad: 1")},
		{name: "space before the colon", request: get("Transfer-Encoding : chunked")},
		{name: "paren in a header name", request: get("X(Bad: 1")},
		{name: "at sign in a header name", request: get("X@Bad: 1")},
		{name: "non-ASCII header name", request: get("X-B\xc3\xa4d: 1")},
		{name: "NUL in a header value", request: get("X-Bad: a\x00b")},
		{name: "control byte in a header value", request: get("X-Bad: a\x01b")},
		{name: "escape in a header value", request: get("X-Bad: a\x1bb")},
		{name: "bare CR in a header value", request: get("X-Bad: a\rb")},
		{name: "DEL in a header value", request: get("X-Bad: a\x7fb")},
		{name: "Transfer-Encoding gzip", request: post("Transfer-Encoding: gzip"), refuse: teRefusal},
		{name: "Transfer-Encoding gzip then chunked", request: post("Transfer-Encoding: gzip, chunked"), refuse: teRefusal},
		{name: "Transfer-Encoding identity", request: post("Transfer-Encoding: identity"), refuse: teRefusal},
		{name: "Transfer-Encoding twice", request: post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), refuse: teRefusal},
		{name: "Transfer-Encoding chunked twice in one", request: post("Transfer-Encoding: chunked, chunked"), refuse: teRefusal},
		{name: "HTTP/9.9 request line", request: "GET /r HTTP/9.9\r\nHost: gw\r\n\r\n",
			refuse: []int{http.StatusBadRequest, http.StatusHTTPVersionNotSupported}},
		{name: "HTTP/1.2 request line", request: "GET /r HTTP/1.2\r\nHost: gw\r\n\r\n",
			refuse: []int{http.StatusBadRequest, http.StatusHTTPVersionNotSupported}},
		{name: "Host with userinfo", request: "GET /r HTTP/1.1\r\nHost: a.example:1@b.example\r\n\r\n"},
		{name: "Host with a path", request: "GET /r HTTP/1.1\r\nHost: gw/evil\r\n\r\n"},
		{name: "Host with a space", request: "GET /r HTTP/1.1\r\nHost: gw evil\r\n\r\n"},
		{name: "Host with a bad port", request: "GET /r HTTP/1.1\r\nHost: gw:80x\r\n\r\n"},
		{name: "two Host headers", request: "GET /r HTTP/1.1\r\nHost: gw\r\nHost: other\r\n\r\n"},
		{name: "chunked in HTTP/1.0", request: "POST /r HTTP/1.0\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody},
		{name: "chunk size not hex", request: "POST /r HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
		{name: "chunk longer than its size", request: "POST /r HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"},
		{name: "chunk size overflows", request: "POST /r HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n"},
		{name: "Content-Length with a sign", request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: -5\r\n\r\nhello"},
		{name: "Content-Length as a list", request: "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 5, 5\r\n\r\nhello"},
	}
}

// testRequestSmuggling sends requests whose framing or header syntax is
// ambiguous. Each must be refused (400, or 501 for a transfer coding the
// engine does not implement) without the backend ever seeing a request,
// and the connection closed after the answer.
func testRequestSmuggling(t *testing.T, s *suite) {
	t.Run("control: a tab in a header value passes", func(t *testing.T) {
		t.Parallel()
		var be recordingBackend
		g := s.gateway(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")))
		conn, br := dial(t, g.Addr)
		write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\nX-Tab: a\tb\r\n\r\n")
		if resp, body := readResponse(t, br, http.MethodGet); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d (%s), want 200", resp.StatusCode, body)
		}
		if seen := be.requests(); len(seen) != 1 || seen[0].header.Get("X-Tab") != "a\tb" {
			t.Errorf("backend saw %+v, want one request with X-Tab \"a\\tb\"", seen)
		}
	})
	for _, tc := range smugglingCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var be recordingBackend
			g := s.gateway(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")))
			conn, br := dial(t, g.Addr)
			write(t, conn, tc.request)
			method, _, _ := strings.Cut(tc.request, " ")
			resp, body := readResponse(t, br, method)

			refuse := tc.refuse
			if refuse == nil {
				refuse = []int{http.StatusBadRequest}
			}
			if slices.Contains(refuse, resp.StatusCode) {
				if resp.Header.Get("Content-Type") == "application/json" {
					wantErrorShape(t, resp.Header, body) // the engine answered itself
				}
				if rest := waitClosed(t, conn, br); len(rest) != 0 {
					t.Errorf("after the %d the connection went on with %q, want it closed", resp.StatusCode, rest)
				}
				if seen := be.requests(); len(seen) != 0 {
					t.Errorf("the backend saw %d requests, want none: %+v", len(seen), seen)
				}
				return
			}
			t.Errorf("status %d (body %q), want one of %v; backend saw %d requests", resp.StatusCode, body, refuse, len(be.requests()))
		})
	}
}
