package enginetest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var upgradeTests = []conformanceTest{
	{name: "UpgradePassesThrough", fn: testUpgradePassesThrough},
	{name: "WebSocketHandedOver", fn: testWebSocketHandedOver},
}

// UpgradeEchoBackend switches a request with Upgrade: portico-test to that
// protocol, then echoes lines upper-cased until the client says bye.
func UpgradeEchoBackend(t testing.TB) *httptest.Server {
	t.Helper()
	return Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "portico-test" {
			http.Error(w, "no upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: portico-test\r\n\r\n")
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = brw.WriteString(strings.ToUpper(line))
			_ = brw.Flush()
			if line == "bye\n" {
				return
			}
		}
	})
}

func testUpgradePassesThrough(t *testing.T, s *suite) {
	be := UpgradeEchoBackend(t)
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("ws", "/ws")))

	conn, err := net.Dial("tcp", g.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(WaitLimit)) // a hang fails, nothing is timed
	_, err = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: portico-test\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "portico-test" {
		t.Fatalf("got %d Upgrade %q, want 101 portico-test", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("101 answer without X-Request-Id")
	}
	for _, msg := range []string{"hello\n", "second message\n", "bye\n"} {
		if _, err := io.WriteString(conn, msg); err != nil {
			t.Fatal(err)
		}
		got, err := br.ReadString('\n')
		if err != nil || got != strings.ToUpper(msg) {
			t.Fatalf("echo of %q = %q (%v)", msg, got, err)
		}
	}
	// The backend closed after bye; the gateway half-closes the client side
	// and ends the exchange once the client closes too.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the backend closed, read gave %v, want EOF", err)
	}
	conn.Close()
	if ob := g.Obs.Next(t); ob.Status != http.StatusSwitchingProtocols {
		t.Errorf("observer saw %+v, want 101", ob)
	}
}

// websocketAccept is the Sec-WebSocket-Accept answer to key (RFC 6455).
func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// testWebSocketHandedOver: the backend answers 101 to a WebSocket upgrade,
// hijacks and echoes; the gateway hands the connection over both ways and
// a close on either side reaches the other.
func testWebSocketHandedOver(t *testing.T, s *suite) {
	// The backend reports how each connection ended: nil when the client
	// side closed (EOF), or the read error.
	ended := make(chan error, 4)
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
			http.Error(w, "not a websocket upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(WaitLimit))
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + websocketAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		_, _ = brw.WriteString("hello from the backend\n")
		_ = brw.Flush()
		// Echo lines; "close\n" makes the backend close its side.
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				ended <- err
				return
			}
			if line == "close\n" {
				return
			}
			_, _ = brw.WriteString("echo: " + line)
			_ = brw.Flush()
		}
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("ws", "/ws")))

	open := func(t *testing.T) (net.Conn, *bufio.Reader) {
		conn, br := dial(t, g.Addr)
		const key = "dGhlIHNhbXBsZSBub25jZQ=="
		write(t, conn, "GET /ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
			!strings.EqualFold(resp.Header.Get("Connection"), "upgrade") {
			t.Fatalf("got %d Upgrade %q Connection %q, want 101 websocket Upgrade", resp.StatusCode, resp.Header.Get("Upgrade"), resp.Header.Get("Connection"))
		}
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), websocketAccept(key); got != want {
			t.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
		}
		if line, err := br.ReadString('\n'); err != nil || line != "hello from the backend\n" {
			t.Fatalf("first backend message %q (%v)", line, err)
		}
		for _, msg := range []string{"one\n", "two, a little longer\n"} {
			write(t, conn, msg)
			if got, err := br.ReadString('\n'); err != nil || got != "echo: "+msg {
				t.Fatalf("echo of %q = %q (%v)", msg, got, err)
			}
		}
		return conn, br
	}

	t.Run("client closes", func(t *testing.T) {
		conn, _ := open(t)
		conn.Close()
		select {
		case err := <-ended:
			if err != nil {
				t.Errorf("the backend's read ended with %v, want EOF", err)
			}
		case <-time.After(WaitLimit):
			t.Fatal("the backend never saw the client close")
		}
	})
	t.Run("backend closes", func(t *testing.T) {
		conn, br := open(t)
		write(t, conn, "close\n")
		if rest := waitClosed(t, conn, br); len(rest) != 0 {
			t.Errorf("after the backend closed the client read %q", rest)
		}
	})
}
