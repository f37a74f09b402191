package nethttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func TestRetryOnAnotherNode(t *testing.T) {
	var posts atomic.Int32
	alive := backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		echoHandler(w, r)
	})
	up := spec.Upstream{Nodes: []spec.Node{nodeOf(t, alive.Listener.Addr().String()), nodeOf(t, closedAddr(t))}}
	g := newGateway(t, table(t, "", up, rt("r", "/r")))

	// The nodes alternate, so of two requests at least one meets the dead
	// node first; every GET must still succeed.
	for i := range 4 {
		resp, body := get(t, g.URL+"/r")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	connectErrors := 0
	for _, k := range g.obs.upstreamErrors() {
		if k == "connect" {
			connectErrors++
		}
	}
	if connectErrors < 2 {
		t.Errorf("%d connect errors over 4 GETs, want ≥ 2: the dead node was never tried", connectErrors)
	}

	// A POST with a body is never sent twice: one of two consecutive POSTs
	// meets the dead node and answers 502, and the live node gets one.
	statuses := map[int]int{}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", strings.NewReader("payload"))
		resp, _ := do(t, req)
		statuses[resp.StatusCode]++
	}
	if statuses[200] != 1 || statuses[502] != 1 {
		t.Errorf("two POSTs answered %v, want one 200 and one 502", statuses)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("backend got %d POSTs, want 1", n)
	}
}

func TestRetriesZeroDisablesRetry(t *testing.T) {
	alive := backend(t, echoHandler)
	zero := 0
	up := spec.Upstream{Retries: &zero, Nodes: []spec.Node{nodeOf(t, alive.Listener.Addr().String()), nodeOf(t, closedAddr(t))}}
	g := newGateway(t, table(t, "", up, rt("r", "/r")))
	statuses := map[int]int{}
	for range 2 {
		resp, _ := get(t, g.URL+"/r")
		statuses[resp.StatusCode]++
	}
	if statuses[200] != 1 || statuses[502] != 1 {
		t.Errorf("two GETs answered %v, want one 200 and one 502", statuses)
	}
}

func TestAllNodesDown(t *testing.T) {
	up := spec.Upstream{Nodes: []spec.Node{nodeOf(t, closedAddr(t)), nodeOf(t, closedAddr(t)), nodeOf(t, closedAddr(t))}}
	retries := 5
	up.Retries = &retries
	g := newGateway(t, table(t, "", up, rt("r", "/r")))
	resp, body := get(t, g.URL+"/r")
	wantError(t, resp, body, http.StatusBadGateway)
	// Bounded by the node count: each node tried once.
	if n := len(g.obs.upstreamErrors()); n != 3 {
		t.Errorf("%d upstream errors, want 3 (one per node): %v", n, g.obs.upstreamErrors())
	}
}

// pattern is an endless deterministic byte stream; readers never hold more
// than a buffer of it.
type pattern struct{ left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

const streamSize = 64 << 20

func TestStreamingUpload(t *testing.T) {
	be := backend(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10)+" "+strings.Join(r.TransferEncoding, ","))
	})
	g := newGateway(t, table(t, "", upstreamOf(t, be), rt("up", "/up")))
	req, _ := http.NewRequest(http.MethodPut, g.URL+"/up", io.NopCloser(&pattern{left: streamSize}))
	req.ContentLength = -1 // chunked
	resp, body := do(t, req)
	if want := strconv.Itoa(streamSize) + " chunked"; resp.StatusCode != 200 || string(body) != want {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

func TestStreamingDownload(t *testing.T) {
	be := backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		buf := make([]byte, 64<<10)
		p := &pattern{left: streamSize}
		for {
			n, err := p.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	g := newGateway(t, table(t, "", upstreamOf(t, be), rt("down", "/down")))
	resp, err := http.Get(g.URL + "/down")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength %d, want a chunked answer", resp.ContentLength)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != streamSize {
		t.Errorf("read %d bytes (err %v), want %d", n, err, streamSize)
	}
}

func TestUpgradePassesThrough(t *testing.T) {
	be := backend(t, func(w http.ResponseWriter, r *http.Request) {
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
		// Echo lines upper-cased until the client says bye.
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
	g := newGateway(t, table(t, "", upstreamOf(t, be), rt("ws", "/ws")))

	conn, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitLimit)) // a hang fails, nothing is timed
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
	if ob := g.obs.next(t); ob.status != http.StatusSwitchingProtocols {
		t.Errorf("observer saw %+v, want 101", ob)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	be := backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		http.NewResponseController(w).Flush()
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(waitLimit):
		}
	})
	g := newGateway(t, table(t, "", upstreamOf(t, be), rt("hang", "/hang")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/hang", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("partial"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "partial" {
		t.Fatalf("read %q: %v", buf, err)
	}
	<-started
	cancel()
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(waitLimit):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
	// The answer had started: the observer counts the backend's status.
	if ob := g.obs.next(t); ob.status != 200 {
		t.Errorf("observer saw %+v", ob)
	}
}

func TestClientDisconnectBeforeAnswer(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	be := backend(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(waitLimit):
		}
	})
	g := newGateway(t, table(t, "", upstreamOf(t, be), rt("hang", "/hang")))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/hang", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error %v, want context.Canceled", err)
	}
	select {
	case <-cancelled:
	case <-time.After(waitLimit):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
	if ob := g.obs.next(t); ob.status != 499 {
		t.Errorf("observer saw %+v, want 499", ob)
	}
}
