package enginetest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

var limitTests = []conformanceTest{
	{name: "HeaderTooLarge", fn: testHeaderTooLarge},
	{name: "DeclaredBodyTooLarge", fn: testDeclaredBodyTooLarge},
	{name: "ChunkedBodyTooLarge", fn: testChunkedBodyTooLarge},
	{name: "RouteSizeLimitBesideGatewayLimit", fn: testRouteSizeLimitBesideGatewayLimit},
	{name: "AnswerBeforeLargeBody", fn: testAnswerBeforeLargeBody},
}

func testHeaderTooLarge(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")),
		Limits{MaxHeaderBytes: 4 << 10})

	conn, br := dial(t, g.Addr)
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\nX-Small: "+strings.Repeat("s", 1<<10)+"\r\n\r\n")
	if resp, body := readResponse(t, br, http.MethodGet); resp.StatusCode != http.StatusOK {
		t.Fatalf("a 1 KiB header: %d %s, want 200", resp.StatusCode, body)
	}

	// Four times the limit: engines may allow some slack over it.
	conn, br = dial(t, g.Addr)
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\nX-Big: "+strings.Repeat("b", 16<<10)+"\r\n\r\n")
	resp, body := readResponse(t, br, http.MethodGet)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a 16 KiB header over a 4 KiB limit: %d %s, want 431", resp.StatusCode, body)
	}
	if n := len(be.requests()); n != 1 {
		t.Errorf("backend saw %d requests, want only the small one", n)
	}
}

func testDeclaredBodyTooLarge(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")),
		Limits{MaxBodyBytes: 1 << 10})

	req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", strings.NewReader(strings.Repeat("x", 1<<10)))
	if resp, body := Do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("a body at the limit: %d %s, want 200", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodPost, g.URL+"/r", strings.NewReader(strings.Repeat("x", 1<<10+1)))
	resp, body := Do(t, req)
	WantError(t, resp, body, http.StatusRequestEntityTooLarge)
	if seen := be.requests(); len(seen) != 1 {
		t.Errorf("backend saw %d requests, want only the one at the limit", len(seen))
	}
}

func testChunkedBodyTooLarge(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")),
		Limits{MaxBodyBytes: 64 << 10})
	post := func(n int64) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", io.NopCloser(NewPattern(n)))
		req.ContentLength = -1 // chunked
		return req
	}
	if resp, body := Do(t, post(64<<10)); resp.StatusCode != http.StatusOK {
		t.Fatalf("a chunked body at the limit: %d %s, want 200", resp.StatusCode, body)
	}
	// The backend may have seen an aborted request; the client sees 413.
	resp, err := Client.Do(post(1 << 20))
	if err != nil {
		t.Fatalf("a chunked body over the limit: %v, want a 413 answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a chunked body over the limit: %d %s, want 413", resp.StatusCode, body)
	}
	for _, r := range be.requests()[1:] {
		if int64(len(r.body)) > 64<<10 {
			t.Errorf("the backend received %d body bytes, over the 64 KiB limit", len(r.body))
		}
	}
}

// testRouteSizeLimitBesideGatewayLimit: the request-size-limit plugin of a
// route still answers 413 under a larger gateway limit.
func testRouteSizeLimitBesideGatewayLimit(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	up := UpstreamOf(t, be)
	limited := spec.Route{ID: "limited", Name: "limited", Paths: []string{"/limited"},
		Plugins: spec.Plugins{"request-size-limit": []byte(`{"max_bytes": 100}`)}}
	g := s.gatewayWith(t, Table(t, "", up, limited), Limits{MaxBodyBytes: 1 << 20})
	tests := []struct {
		name   string
		size   int
		length int64 // -1: chunked
		want   int
	}{
		{"declared over the route limit", 101, 101, 413},
		{"chunked over the route limit", 5000, -1, 413},
		{"chunked under the route limit", 100, -1, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/limited", io.NopCloser(strings.NewReader(strings.Repeat("x", tc.size))))
			req.ContentLength = tc.length
			resp, body := Do(t, req)
			if tc.want == 200 {
				if e := DecodeEcho(t, resp, body); e.BodyLength != int64(tc.size) {
					t.Errorf("backend got %d body bytes, want %d", e.BodyLength, tc.size)
				}
				return
			}
			WantError(t, resp, body, tc.want)
		})
	}
}

// testAnswerBeforeLargeBody: an answer the gateway gives before reading a
// large body (no route, a refused address, a declared body over a route's
// limit) reaches a client that is still sending it, instead of a reset
// from a connection closed with unread data.
func testAnswerBeforeLargeBody(t *testing.T, s *suite) {
	up := UpstreamOf(t, Backend(t, EchoHandler))
	denied := spec.Route{ID: "denied", Name: "denied", Paths: []string{"/denied"},
		Plugins: spec.Plugins{"ip-restriction": []byte(`{"deny": ["127.0.0.0/8"]}`)}}
	limited := spec.Route{ID: "limited", Name: "limited", Paths: []string{"/limited"},
		Plugins: spec.Plugins{"request-size-limit": []byte(`{"max_bytes": 100}`)}}
	g := s.gatewayWith(t, Table(t, "", up, denied, limited), Limits{MaxBodyBytes: 64 << 20})
	const size = 4 << 20
	tests := []struct {
		name, path string
		want       int
	}{
		{"no route", "/nowhere", http.StatusNotFound},
		{"refused address", "/denied", http.StatusForbidden},
		{"over the route limit", "/limited", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		for _, length := range []int64{size, -1} {
			t.Run(fmt.Sprintf("%s length %d", tc.name, length), func(t *testing.T) {
				for range 5 { // the reset is a race the client loses often, not always
					req, _ := http.NewRequest(http.MethodPost, g.URL+tc.path, io.NopCloser(NewPattern(size)))
					req.ContentLength = length
					resp, err := Client.Do(req)
					if err != nil {
						t.Fatalf("POST %s with a 4 MiB body: %v, want a %d answer", tc.path, err, tc.want)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					WantError(t, resp, body, tc.want)
				}
			})
		}
	}
}
