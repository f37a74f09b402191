package enginetest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var pipelineTests = []conformanceTest{
	{name: "Pipelining", fn: testPipelining},
	{name: "ExpectContinue", fn: testExpectContinue},
}

// testPipelining writes three requests in one write; the answers come in
// order, each to its own request.
func testPipelining(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("p", "/p/{name}")))
	conn, br := dial(t, g.Addr)
	write(t, conn, "GET /p/first HTTP/1.1\r\nHost: gw\r\n\r\n"+
		"POST /p/second HTTP/1.1\r\nHost: gw\r\nContent-Length: 11\r\n\r\nhello world"+
		"GET /p/third HTTP/1.1\r\nHost: gw\r\n\r\n")
	type answer struct{ Method, Path, Body string }
	var got []answer
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodGet} {
		resp, body := readResponse(t, br, method)
		e := DecodeEcho(t, resp, body)
		got = append(got, answer{e.Method, e.Path, e.Body})
	}
	want := []answer{{"GET", "/p/first", ""}, {"POST", "/p/second", "hello world"}, {"GET", "/p/third", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pipelined answers (-want +got):\n%s", diff)
	}
}

func testExpectContinue(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")),
		Limits{MaxBodyBytes: 1 << 10})
	const head = "Host: gw\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"

	t.Run("proxied", func(t *testing.T) {
		conn, br := dial(t, g.Addr)
		write(t, conn, "POST /r HTTP/1.1\r\n"+head)
		// The client waits: the body goes only after the 100.
		resp, _ := readResponse(t, br, http.MethodPost)
		if resp.StatusCode != http.StatusContinue {
			t.Fatalf("first answer %d, want 100 Continue before the body", resp.StatusCode)
		}
		write(t, conn, "hello world")
		resp, body, _ := readFinal(t, br, http.MethodPost)
		if resp.StatusCode != http.StatusOK || string(body) != "backend answer" {
			t.Fatalf("final answer %d %q, want the backend's 200", resp.StatusCode, body)
		}
		if seen := be.requests(); len(seen) != 1 || seen[0].body != "hello world" {
			t.Errorf("backend saw %+v, want one request with the body", seen)
		}
	})
	refused := []struct {
		name, request string
		want          int
	}{
		{"no route", "POST /nowhere HTTP/1.1\r\n" + head, http.StatusNotFound},
		{"over the body limit", "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := len(be.requests())
			conn, br := dial(t, g.Addr)
			write(t, conn, tc.request)
			resp, body := readResponse(t, br, http.MethodPost)
			if resp.StatusCode != tc.want {
				t.Fatalf("first answer %d %q, want %d without a 100 first", resp.StatusCode, body, tc.want)
			}
			WantError(t, resp, body, tc.want)
			if n := len(be.requests()) - before; n != 0 {
				t.Errorf("the backend saw %d requests, want none", n)
			}
		})
	}
}
