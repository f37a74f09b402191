package fast

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// TestParkedTLSConnectionServesAgain: an idle TLS keep-alive connection
// parks like a plain one and keeps its session: the next request on it,
// park after park, is decrypted, served as TLS (the backend hears
// X-Forwarded-Proto: https) and answered on the same session; a client
// that closes its parked session is closed and forgotten.
func TestParkedTLSConnectionServesAgain(t *testing.T) {
	if !canPark {
		t.Skip("connections are not parked on this platform")
	}
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+r.Header.Get("X-Forwarded-Proto"))
	})
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("r", "/r")))
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler),
		Limits: engine.Limits{IdleTimeout: time.Minute}})
	srv.parkAfter = testParkAfter
	srv.srv.IdleTimeout = fasthttpIdleTimeout(srv.cfg.IdleTimeout, srv.parkAfter)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert := certtest.SelfSigned(t, "gw.test").TLS(t)
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	t.Cleanup(func() { _ = srv.Close() })

	dial := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true}) // the server's key is not what is tested
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(enginetest.WaitLimit)) // a hang fails, nothing is timed
		return c, bufio.NewReader(c)
	}
	c, br := dial()
	for i := range 3 {
		send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
		readAnswer(t, br, "GET https")
		waitParked(t, srv, 1)
		if i == 2 {
			// Two requests in one record wake it: both are answered.
			send(t, c, "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\nabcGET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
			readAnswer(t, br, "POST https")
			readAnswer(t, br, "GET https")
		}
	}
	// A second session parks beside the first; each leaves in its own
	// way (close_notify then FIN, a bare reset) and is forgotten.
	c2, br2 := dial()
	send(t, c2, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	readAnswer(t, br2, "GET https")
	waitParked(t, srv, 2)
	_ = c.Close()
	_ = c2.NetConn().(*net.TCPConn).SetLinger(0)
	_ = c2.NetConn().Close()
	waitCount(t, "tracked", func() int { return len(srv.conns.list()) }, 0)
}

// TestTrickledTLSRecordIsNotParkedForEver: bytes of a TLS record cut
// short wake a parked connection but give fasthttp nothing to read; the
// woken connection is read as a new one, under the header timeout, so it
// is answered 408 and closed, not parked again between each byte a slow
// client sends.
func TestTrickledTLSRecordIsNotParkedForEver(t *testing.T) {
	if !canPark {
		t.Skip("connections are not parked on this platform")
	}
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("r", "/r")))
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler),
		Limits: engine.Limits{IdleTimeout: time.Minute, ReadHeaderTimeout: 200 * time.Millisecond}})
	srv.parkAfter = testParkAfter
	srv.srv.IdleTimeout = fasthttpIdleTimeout(srv.cfg.IdleTimeout, srv.parkAfter)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert := certtest.SelfSigned(t, "gw.test").TLS(t)
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	t.Cleanup(func() { _ = srv.Close() })

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(enginetest.WaitLimit)) // a hang fails, nothing is timed
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	br := bufio.NewReader(c)
	send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	readAnswer(t, br, "ok")
	waitParked(t, srv, 1)
	// The first three bytes of an application-data record's five-byte
	// header, written under the TLS session, and nothing after them.
	if _, err := raw.Write([]byte{0x17, 0x03, 0x03}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("after a record cut short: %v %v, want 408 and the connection closed", resp, err)
	}
	waitCount(t, "tracked", func() int { return len(srv.conns.list()) }, 0)
}
