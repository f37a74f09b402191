package enginetest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

var hopByHopTests = []conformanceTest{
	{name: "HopByHopRequestHeaders", fn: testHopByHopRequestHeaders},
	{name: "HopByHopResponseHeaders", fn: testHopByHopResponseHeaders},
}

// hopByHop are the headers that concern one connection only (RFC 9110
// §7.6.1), plus X-Named-Hop, which the Connection header names.
var hopByHop = []string{"Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade",
	"Proxy-Authorization", "Proxy-Authenticate", "X-Named-Hop"}

func testHopByHopRequestHeaders(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")))
	conn, br := dial(t, g.Addr)
	// Raw bytes: a Go client would not send Trailer on a bodiless request.
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\n"+
		"Connection: keep-alive, X-Named-Hop\r\n"+
		"Keep-Alive: timeout=5\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"TE: gzip\r\n"+
		"Trailer: X-Checksum\r\n"+
		"Upgrade: websocket\r\n"+ // no "Connection: upgrade": not an upgrade
		"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
		"Proxy-Authenticate: Basic realm=\"x\"\r\n"+
		"X-Named-Hop: secret\r\n"+
		"X-End-To-End: kept\r\n\r\n")
	resp, body := readResponse(t, br, http.MethodGet)
	e := DecodeEcho(t, resp, body)
	for _, h := range append(hopByHop, "Connection") {
		if v := e.Header.Values(h); len(v) > 0 {
			t.Errorf("hop-by-hop request header %s: %q reached the backend", h, v)
		}
	}
	if got := e.Header.Get("X-End-To-End"); got != "kept" {
		t.Errorf("end-to-end header X-End-To-End = %q at the backend, want kept", got)
	}
}

func testHopByHopResponseHeaders(t *testing.T, s *suite) {
	// A raw backend: a Go server treats Trailer and Connection itself.
	addr := RawBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\n"+
				"Content-Type: text/plain\r\n"+
				"Content-Length: 2\r\n"+
				"Connection: keep-alive, X-Named-Hop\r\n"+
				"Keep-Alive: timeout=5\r\n"+
				"Proxy-Connection: keep-alive\r\n"+
				"TE: gzip\r\n"+
				"Trailer: X-Checksum\r\n"+
				"Upgrade: websocket\r\n"+
				"Proxy-Authenticate: Basic realm=\"x\"\r\n"+
				"Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"+
				"X-Named-Hop: secret\r\n"+
				"X-End-To-End: kept\r\n\r\nok")
			if err != nil {
				return
			}
		}
	})
	g := s.gateway(t, Table(t, "", UpstreamAt(t, addr), Route("r", "/r")))
	conn, br := dial(t, g.Addr)
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	resp, body := readResponse(t, br, http.MethodGet)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("got %d %q, want 200 ok", resp.StatusCode, body)
	}
	for _, h := range hopByHop {
		if v := resp.Header.Values(h); len(v) > 0 {
			t.Errorf("hop-by-hop response header %s: %q reached the client", h, v)
		}
	}
	// The engine may manage its own connection (close, keep-alive), but
	// must not pass on the backend's list.
	for _, v := range resp.Header.Values("Connection") {
		if strings.Contains(strings.ToLower(v), "x-named-hop") {
			t.Errorf("the backend's Connection header %q reached the client", v)
		}
	}
	if got := resp.Header.Get("X-End-To-End"); got != "kept" {
		t.Errorf("end-to-end header X-End-To-End = %q at the client, want kept", got)
	}
}
