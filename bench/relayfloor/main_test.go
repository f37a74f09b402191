package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		err            bool
	}{
		{name: "whole", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", want: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"},
		{name: "empty body", in: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", want: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"},
		{name: "no length", in: "HTTP/1.1 200 OK\r\nX: y\r\n\r\nhi", err: true},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", err: true},
		{name: "body past the buffer", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", err: true},
		{name: "cut short", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, want := tc.in, tc.want
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				// One byte at a time: the answer must be put together.
				for i := range len(in) {
					if _, err := b.Write([]byte{in[i]}); err != nil {
						return
					}
				}
				b.Close()
			}()
			buf := make([]byte, 16<<10)
			n, err := readAnswer(a, buf)
			if tc.err {
				if err == nil {
					t.Fatalf("read %q, want an error", buf[:n])
				}
				return
			}
			if err != nil || string(buf[:n]) != want {
				t.Fatalf("read %q, %v; want %q", buf[:n], err, want)
			}
		})
	}
}

// Both goroutine relays carry keep-alive requests to the origin and back.
func TestGoroutineRelays(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "from "+r.URL.Path)
	}))
	defer origin.Close()
	for name, relay := range map[string]func(client, up net.Conn){"goroutines": copyBothWays, "lockstep": lockstep} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() { _ = serveGoroutines(ln, origin.Listener.Addr().String(), relay) }()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for _, path := range []string{"/a", "/b", "/c"} {
				if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				if string(body) != "from "+path {
					t.Fatalf("GET %s: %q", path, body)
				}
			}
		})
	}
}

// The eventloop-http relay parses and writes again each head, and carries
// keep-alive requests, one read's bytes at a time too, to the origin and
// back, with the relay's Via header.
func TestEventLoopHTTP(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "from "+r.URL.Path+" via "+r.Header.Get("Via"))
	}))
	defer origin.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	engine, err := startEventLoopHTTP(addr, origin.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Stop()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, path := range []string{"/a", "/b", "/c"} {
		req := "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"
		if i == 1 { // the head in pieces: it is gathered before parsing
			for j := range len(req) {
				if _, err := io.WriteString(c, req[j:j+1]); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if want := "from " + path + " via 1.1 relayfloor"; string(body) != want {
			t.Fatalf("GET %s: %q, want %q", path, body, want)
		}
	}
}
