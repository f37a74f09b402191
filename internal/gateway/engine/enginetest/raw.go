package enginetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// dial opens a raw TCP connection to addr whose every read and write fails
// after WaitLimit; it is closed at cleanup. Tests use it for bytes a Go
// client would refuse to send and for clients that misbehave.
func dial(t testing.TB, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(WaitLimit))
	return c, bufio.NewReader(c)
}

func write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write to the gateway: %v", err)
	}
}

// readResponse reads one response to a request of method and its body.
func readResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body of a %d: %v", resp.StatusCode, err)
	}
	return resp, body
}

// readFinal reads the final response to a request, skipping informational
// (1xx) ones; it returns how many it skipped.
func readFinal(t testing.TB, br *bufio.Reader, method string) (*http.Response, []byte, int) {
	t.Helper()
	for skipped := 0; ; skipped++ {
		resp, body := readResponse(t, br, method)
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, body, skipped
		}
	}
}

// waitClosed reads until the server closes the connection (EOF or reset)
// and fails if it is still open after WaitLimit. It returns what arrived.
func waitClosed(t testing.TB, c net.Conn, br *bufio.Reader) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(WaitLimit))
	rest, err := io.ReadAll(br)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the gateway kept the connection open for %v (got %q)", WaitLimit, rest)
	}
	return rest
}

// RawBackend serves each connection accepted on a 127.0.0.1 listener with
// serve, in its own goroutine and under a WaitLimit deadline, and returns
// the address. Cleanup closes the listener and the connections and waits
// for every serve to return.
func RawBackend(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(WaitLimit))
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					c.Close()
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
