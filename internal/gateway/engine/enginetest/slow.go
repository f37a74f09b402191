package enginetest

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var slowClientTests = []conformanceTest{
	{name: "ReadHeaderTimeout", fn: testReadHeaderTimeout},
	{name: "BodyTimeout", fn: testBodyTimeout},
	{name: "IdleTimeout", fn: testIdleTimeout},
	{name: "SendTimeout", fn: testSendTimeout},
	{name: "SlowButSteadyStreams", fn: testSlowButSteadyStreams},
	{name: "KeepAliveOutlivesTimeouts", fn: testKeepAliveOutlivesTimeouts},
	{name: "SlowUpstreamOutlivesHeaderTimeout", fn: testSlowUpstreamOutlivesHeaderTimeout},
}

// A request whose upstream answers after the client's header timeout has
// passed is still answered: that timeout bounds the client sending its
// header, not the wait for the answer, and the engine's checks that the
// client is still there must not take a passed deadline for its leaving.
func testSlowUpstreamOutlivesHeaderTimeout(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers after the gateway's header timeout (shortLimit)
		case <-time.After(3 * shortLimit):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "late")
	})
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")), Limits{ReadHeaderTimeout: shortLimit})
	resp, err := http.Get(g.URL + "/r")
	if err != nil {
		t.Fatalf("the client was cut off: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "late" {
		t.Errorf("answer %d %q, want 200 \"late\"", resp.StatusCode, b)
	}
}

// Short limits for these tests: each only asserts that the engine gave up
// before WaitLimit, never how fast.
const shortLimit = 300 * time.Millisecond

// wantClosedOr408 waits for the engine to close conn; a 408 answer before
// the close is accepted.
func wantClosedOr408(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	if rest := waitClosed(t, conn, br); len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 408 ") {
		t.Errorf("before closing the gateway answered %q, want nothing or a 408", firstLine(rest))
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\r\n")
	return s
}

func testReadHeaderTimeout(t *testing.T, s *suite) {
	var be recordingBackend
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, Backend(t, be.ServeHTTP)), Route("r", "/r")),
		Limits{ReadHeaderTimeout: shortLimit})
	conn, br := dial(t, g.Addr)
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\n") // never finished
	wantClosedOr408(t, conn, br)
	if n := len(be.requests()); n != 0 {
		t.Errorf("backend saw %d requests of an unfinished header", n)
	}
}

func testBodyTimeout(t *testing.T, s *suite) {
	var started atomic.Int32
	ended := make(chan error, 1)
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		_, err := io.Copy(io.Discard, r.Body)
		if err == nil {
			err = r.Context().Err()
		}
		select {
		case ended <- err:
		default:
		}
	})
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")), Limits{BodyTimeout: shortLimit})
	conn, br := dial(t, g.Addr)
	// 64 KiB of a declared 1 MiB, then nothing: enough that an engine
	// streaming the body has passed some of it to the backend.
	write(t, conn, "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: "+strconv.Itoa(1<<20)+"\r\n\r\n"+strings.Repeat("x", 64<<10))
	wantClosedOr408(t, conn, br)
	if started.Load() == 0 {
		return // the engine buffers bodies: nothing reached the backend
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("the backend read a whole body the client never sent")
		}
	case <-time.After(WaitLimit):
		t.Fatal("the backend's request was not aborted after the client stalled")
	}
}

func testIdleTimeout(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")), Limits{IdleTimeout: shortLimit})
	conn, br := dial(t, g.Addr)
	write(t, conn, "GET /r HTTP/1.1\r\nHost: gw\r\n\r\n")
	resp, body := readResponse(t, br, http.MethodGet)
	DecodeEcho(t, resp, body)
	if rest := waitClosed(t, conn, br); len(rest) != 0 {
		t.Errorf("an idle connection got %q before closing", rest)
	}
}

func testSendTimeout(t *testing.T, s *suite) {
	gaveUp := make(chan error, 1)
	report := func(err error) {
		select {
		case gaveUp <- err:
		default:
		}
	}
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		chunk := make([]byte, 64<<10)
		deadline := time.Now().Add(WaitLimit)
		for time.Now().Before(deadline) {
			if _, err := w.Write(chunk); err != nil {
				report(err)
				return
			}
			if err := rc.Flush(); err != nil {
				report(err)
				return
			}
			if err := r.Context().Err(); err != nil {
				report(err)
				return
			}
		}
		report(nil)
	})
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("down", "/down")), Limits{SendTimeout: shortLimit})
	conn, _ := dial(t, g.Addr)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(16 << 10)
	}
	write(t, conn, "GET /down HTTP/1.1\r\nHost: gw\r\n\r\n")
	// The client reads nothing: the engine's writes block, and once
	// SendTimeout passed it must give up and drop the upstream request.
	select {
	case err := <-gaveUp:
		if err == nil {
			t.Fatal("the backend streamed for WaitLimit into a client that reads nothing")
		}
	case <-time.After(WaitLimit + WaitLimit/2):
		t.Fatal("the backend's write to a client that reads nothing never failed")
	}
}

// testSlowButSteadyStreams: timeouts between two reads or writes must not
// bound a whole body that keeps moving, however long it takes.
func testSlowButSteadyStreams(t *testing.T, s *suite) {
	const (
		pieces = 80
		piece  = 16 << 10
		pause  = 20 * time.Millisecond // pieces × pause is well over the limits
		// Generous beside one pause: a loaded CI machine (-race, parallel
		// packages) can stall a goroutine for hundreds of milliseconds.
		limit = time.Second
	)
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			n, err := io.Copy(&PatternChecker{}, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
			return
		}
		rc := http.NewResponseController(w)
		p := NewPattern(pieces * piece)
		buf := make([]byte, piece)
		for range pieces {
			n, _ := p.Read(buf)
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			_ = rc.Flush()
			time.Sleep(pause)
		}
	})
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("s", "/s")),
		Limits{BodyTimeout: limit, SendTimeout: limit})

	t.Run("upload", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, g.URL+"/s", &pacedReader{r: NewPattern(pieces * piece), piece: piece, pause: pause})
		req.ContentLength = pieces * piece
		resp, body := Do(t, req)
		if want := strconv.Itoa(pieces * piece); resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	})
	t.Run("download", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/s", nil)
		resp, err := Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		// Read slowly too: each read waits a pause.
		n, err := io.Copy(&PatternChecker{}, &pacedReader{r: resp.Body, piece: piece, pause: pause})
		if err != nil || n != pieces*piece {
			t.Errorf("read %d bytes (%v), want %d", n, err, pieces*piece)
		}
	})
}

// testKeepAliveOutlivesTimeouts: the body and send timeouts of one
// request must not linger on a keep-alive connection: requests spaced
// wider than both still succeed on it.
func testKeepAliveOutlivesTimeouts(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gatewayWith(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")),
		Limits{BodyTimeout: 200 * time.Millisecond, SendTimeout: 200 * time.Millisecond, IdleTimeout: WaitLimit})
	conn, br := dial(t, g.Addr)
	for i := range 5 {
		if i > 0 {
			time.Sleep(400 * time.Millisecond) // idle past both timeouts
		}
		body := strings.Repeat("b", 100*(i+1))
		write(t, conn, "POST /r HTTP/1.1\r\nHost: gw\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
		resp, got := readResponse(t, br, http.MethodPost)
		if e := DecodeEcho(t, resp, got); e.BodyLength != int64(len(body)) {
			t.Fatalf("request %d: backend got %d body bytes, want %d", i, e.BodyLength, len(body))
		}
	}
}

// pacedReader reads at most piece bytes at a time, pausing before each.
type pacedReader struct {
	r     io.Reader
	piece int
	pause time.Duration
}

func (p *pacedReader) Read(b []byte) (int, error) {
	time.Sleep(p.pause)
	if len(b) > p.piece {
		b = b[:p.piece]
	}
	return p.r.Read(b)
}
