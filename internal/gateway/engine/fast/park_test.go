package fast

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// testParkAfter stands for the second a connection idles before it is
// parked, so these tests take milliseconds.
const testParkAfter = 30 * time.Millisecond

// backendHits counts the requests startParking's backend received.
var backendHits atomic.Int64

// startParking serves one route, /r, whose backend echoes the request body
// (and "<method> ok" without one), on a fast engine that parks after
// testParkAfter and closes idle connections after idle.
func startParking(t *testing.T, idle time.Duration) (*Server, string) {
	t.Helper()
	if !canPark {
		t.Skip("connections are not parked on this platform")
	}
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		backendHits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if len(b) == 0 {
			b = []byte(r.Method + " ok")
		}
		_, _ = w.Write(b)
	})
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("r", "/r")))
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler),
		Limits: engine.Limits{IdleTimeout: idle}})
	srv.parkAfter = testParkAfter
	srv.srv.IdleTimeout = fasthttpIdleTimeout(srv.cfg.IdleTimeout, srv.parkAfter)
	return srv, strings.TrimPrefix(enginetest.ServeLoopback(t, srv), "http://")
}

// parkedConns counts the connections parked right now.
func (s *Server) parkedConns() int {
	n := 0
	for _, c := range s.conns.list() {
		if pc, ok := c.(*parkingConn); ok && pc.state.Load() == connParked {
			n++
		}
	}
	return n
}

// waitParked waits until want connections are parked.
func waitParked(t *testing.T, s *Server, want int) {
	t.Helper()
	waitCount(t, "parked", s.parkedConns, want)
}

// waitCount polls count until it is want.
func waitCount(t *testing.T, what string, count func() int, want int) {
	t.Helper()
	deadline := time.Now().Add(enginetest.WaitLimit)
	for count() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections %s, want %d", count(), what, want)
		}
		time.Sleep(5 * time.Millisecond) // polling, not ordering
	}
}

func dialGateway(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(enginetest.WaitLimit)) // a hang fails, nothing is timed
	return c, bufio.NewReader(c)
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

func readAnswer(t *testing.T, br *bufio.Reader, wantBody string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(b) != wantBody {
		t.Fatalf("answer %d %q, want 200 %q", resp.StatusCode, b, wantBody)
	}
}

// TestParkedConnectionServesAgain: a keep-alive connection that idles is
// parked, and its next request is served as if it never was, park after
// park.
func TestParkedConnectionServesAgain(t *testing.T) {
	srv, addr := startParking(t, time.Minute)
	c, br := dialGateway(t, addr)
	for i := range 3 {
		send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
		readAnswer(t, br, "GET ok")
		waitParked(t, srv, 1)
		if i == 2 {
			// Two requests in one write wake it: both are answered.
			send(t, c, "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\nabcGET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
			readAnswer(t, br, "abc")
			readAnswer(t, br, "GET ok")
		}
	}
	// A request followed by the client's FIN is still served: the parked
	// set resumes a connection with a request waiting, however its
	// client ends. (Whether the client hears the answer depends on the
	// upstream: past 100 ms the engine takes a FIN for a client gone.)
	waitParked(t, srv, 1)
	hits := backendHits.Load()
	send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, "served after a FIN", func() int { return int(backendHits.Load() - hits) }, 1)
}

// TestParkedConnectionClientLeaves: a parked connection whose client goes
// away is closed and forgotten.
func TestParkedConnectionClientLeaves(t *testing.T) {
	srv, addr := startParking(t, time.Minute)
	for _, reset := range []bool{false, true} {
		c, br := dialGateway(t, addr)
		send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
		readAnswer(t, br, "GET ok")
		waitParked(t, srv, 1)
		if reset {
			_ = c.(*net.TCPConn).SetLinger(0)
		}
		_ = c.Close()
		waitCount(t, "tracked", func() int { return len(srv.conns.list()) }, 0)
	}
}

// TestPauseInsideARequestIsNotParked: a client that pauses in the middle
// of a request (its header, its body, a pipelined second request) for
// longer than the idle time before a park keeps its connection on the
// serving goroutine, and what it sends after the pause is the rest of the
// same request, never the start of a new one. The pause is the input
// under test, not a synchronisation.
func TestPauseInsideARequestIsNotParked(t *testing.T) {
	cases := []struct {
		name         string
		before, rest string
		want         []string
	}{
		{"header", "GET /r HTTP/1.1\r\nHo", "st: gw\r\n\r\n", []string{"GET ok"}},
		{"body", "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\n01234", "56789", []string{"0123456789"}},
		{"chunked body", "POST /r HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n", "5\r\n56789\r\n0\r\n\r\n", []string{"0123456789"}},
		{"pipelined", "GET /r HTTP/1.1\r\nHost: gw\r\n\r\nPOST /r HTTP/1.1\r\nHost: gw\r\nContent-Le", "ngth: 2\r\n\r\nhi", []string{"GET ok", "hi"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, addr := startParking(t, time.Minute)
			c, br := dialGateway(t, addr)
			send(t, c, tc.before)
			time.Sleep(5 * testParkAfter)
			if n := srv.parkedConns(); n != 0 {
				t.Fatalf("%d connections parked in the middle of a request", n)
			}
			send(t, c, tc.rest)
			for _, want := range tc.want {
				readAnswer(t, br, want)
			}
		})
	}
}

// TestParkedConnectionIdleTimeout: a parked connection is still closed when
// its idle timeout runs out.
func TestParkedConnectionIdleTimeout(t *testing.T) {
	srv, addr := startParking(t, testParkAfter+100*time.Millisecond)
	c, br := dialGateway(t, addr)
	send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	readAnswer(t, br, "GET ok")
	waitParked(t, srv, 1)
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read on an expired connection: %v, want EOF", err)
	}
	waitParked(t, srv, 0)
}

// TestShutdownClosesParkedConnections: parked connections are idle, so a
// shutdown closes them at once.
func TestShutdownClosesParkedConnections(t *testing.T) {
	srv, addr := startParking(t, time.Minute)
	c, br := dialGateway(t, addr)
	send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	readAnswer(t, br, "GET ok")
	waitParked(t, srv, 1)
	ctx, cancel := context.WithTimeout(context.Background(), enginetest.WaitLimit)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after shutdown: %v, want EOF", err)
	}
}

// TestUpgradedConnectionIsNeverParked: a tunnel that stays quiet is the
// tunnel still, not an HTTP connection parked and parsed again.
func TestUpgradedConnectionIsNeverParked(t *testing.T) {
	if !canPark {
		t.Skip("connections are not parked on this platform")
	}
	be := enginetest.UpgradeEchoBackend(t)
	var tp atomic.Pointer[routing.Table]
	tp.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("ws", "/ws")))
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler)})
	srv.parkAfter = testParkAfter
	srv.srv.IdleTimeout = fasthttpIdleTimeout(srv.cfg.IdleTimeout, srv.parkAfter)
	addr := strings.TrimPrefix(enginetest.ServeLoopback(t, srv), "http://")

	c, br := dialGateway(t, addr)
	send(t, c, "GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: portico-test\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	time.Sleep(5 * testParkAfter) // the tunnel's quiet time is the input
	if n := srv.parkedConns(); n != 0 {
		t.Fatalf("%d connections parked while tunnelled", n)
	}
	send(t, c, "GET / HTTP/1.1\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "GET / HTTP/1.1\n" {
		t.Fatalf("through the tunnel: %q %v", line, err)
	}
}

// TestMemoryReleaseAfterAWave: a release follows a wave of parks or closes
// only once it is over, and releases are at least releaseEvery apart.
func TestMemoryReleaseAfterAWave(t *testing.T) {
	var r memoryRelease
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.ends.Add(releaseAfter)
	r.tick(at(releaseEvery)) // the wave is still going
	if r.pending != releaseAfter || !r.last.IsZero() {
		t.Fatalf("released during the wave: pending %d, last %v", r.pending, r.last)
	}
	r.tick(at(releaseEvery + releaseTick)) // quiet: release
	if r.pending != 0 || !r.last.Equal(at(releaseEvery+releaseTick)) {
		t.Fatalf("no release after the wave: pending %d", r.pending)
	}
	r.ends.Add(releaseAfter)
	r.tick(at(releaseEvery + 2*releaseTick))
	r.tick(at(releaseEvery + 3*releaseTick)) // quiet, but too soon
	if r.pending != releaseAfter {
		t.Fatalf("released %v after the last one", 2*releaseTick)
	}
	r.tick(at(2*releaseEvery + 3*releaseTick))
	if r.pending != 0 {
		t.Fatal("the deferred release never came")
	}
	r.ends.Add(releaseAfter - 1)
	r.tick(at(3 * releaseEvery))
	r.tick(at(4 * releaseEvery))
	if r.pending != 0 || !r.last.Equal(at(2*releaseEvery+3*releaseTick)) {
		t.Fatal("a small wave released memory")
	}
}

// TestCloseRacesTheFirstPark: connections closing while the first one
// parks (and so starts the parked set) touch the set safely (run with
// -race).
func TestCloseRacesTheFirstPark(t *testing.T) {
	srv, addr := startParking(t, time.Minute)
	var conns []net.Conn
	for range 4 {
		c, br := dialGateway(t, addr)
		send(t, c, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
		readAnswer(t, br, "GET ok")
		conns = append(conns, c)
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for range 20 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "GET /r HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
			_, _ = io.Copy(io.Discard, c)
			_ = c.Close()
		}
	}()
	waitParked(t, srv, len(conns))
	<-closed
}
