package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBodyIs94Bytes(t *testing.T) {
	if len(Body) != 94 {
		t.Fatalf("len(Body) = %d, want 94", len(Body))
	}
}

// TestRawPipelinedKeepAlive sends three pipelined requests (one with a
// chunked body, the last HTTP/1.0) on one connection and reads three
// answers, the last closing the connection.
func TestRawPipelinedKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRaw(ln)

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	reqs := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"PUT /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /d HTTP/1.0\r\n\r\n"
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range 4 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != Body || resp.Header.Get("Date") == "" {
			t.Fatalf("answer %d = %d %q %v", i, resp.StatusCode, b, resp.Header)
		}
		if got, want := resp.Close, i == 3; got != want {
			t.Errorf("answer %d: Close = %v, want %v", i, got, want)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the HTTP/1.0 answer: %v, want EOF", err)
	}
}

func TestRawBadRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveRaw(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "NONSENSE\r\n\r\n")
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 400 ") {
		t.Errorf("answer = %q, want 400", b)
	}
}
