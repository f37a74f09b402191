package enginetest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// backendStreamTests: a backend that answers itself (the sql backend)
// reads the request body and streams an answer of unknown length through
// Exchange.RespondStream, on every engine.
var backendStreamTests = []conformanceTest{
	{name: "BackendStreamsAnswer", fn: testBackendStream},
}

// genBody produces n bytes of a repeating pattern without holding them.
type genBody struct {
	left   int
	closed *atomic.Int32
}

func (g *genBody) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), g.left, 4096)
	for i := range n {
		p[i] = 'a' + byte((g.left-i)%26)
	}
	g.left -= n
	return n, nil
}

func (g *genBody) Close() error { g.closed.Add(1); return nil }

// streamFilter answers with the request body's length in a header and a
// generated body of the size the query asks.
type streamFilter struct{ closed *atomic.Int32 }

func (f streamFilter) OnRequest(ex *plugin.Exchange) bool {
	b, err := ex.ReadBody(1 << 20)
	if err != nil {
		ex.Reject(http.StatusBadRequest, "bad_request", err.Error())
		return true
	}
	n, _ := strconv.Atoi(ex.Query("n"))
	ex.SetResponseHeader("X-Body-Length", strconv.Itoa(len(b)))
	ex.SetResponseHeader("Content-Type", "text/plain")
	ex.RespondStream(http.StatusOK, &genBody{left: n, closed: f.closed})
	return true
}

func testBackendStream(t *testing.T, s *suite) {
	var closed atomic.Int32
	tbl := Table(t, "", UpstreamAt(t, ClosedAddr(t)), Route("gen", "/gen"))
	rt := RouteOf(t, tbl, "POST", "/gen")
	rt.AddRequestFilter(streamFilter{closed: &closed})
	g := s.gateway(t, tbl)

	const size = 8 << 20
	req, _ := http.NewRequest("POST", g.URL+"/gen?n="+strconv.Itoa(size), strings.NewReader(`{"x":1}`))
	resp, body := Do(t, req)
	if resp.StatusCode != 200 || len(body) != size || resp.Header.Get("X-Body-Length") != "7" {
		t.Fatalf("streamed answer: %d, %d bytes, body length header %q", resp.StatusCode, len(body), resp.Header.Get("X-Body-Length"))
	}
	want := make([]byte, 0, 4096)
	g2 := &genBody{left: size, closed: new(atomic.Int32)}
	buf := make([]byte, 4096)
	n, _ := g2.Read(buf)
	want = append(want, buf[:n]...)
	if !bytes.Equal(body[:n], want) {
		t.Fatal("streamed body differs from what the backend produced")
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.ContentLength != -1 {
		t.Errorf("X-Request-Id %q, Content-Length %d: want an id and a chunked answer", resp.Header.Get("X-Request-Id"), resp.ContentLength)
	}
	deadline := time.Now().Add(2 * time.Second)
	for closed.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if closed.Load() != 1 {
		t.Errorf("the stream was closed %d times, want once", closed.Load())
	}

	// A client that leaves mid-answer: the engine still closes the stream.
	resp2, err := http.Get(g.URL + "/gen?n=" + strconv.Itoa(256<<20))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadFull(resp2.Body, make([]byte, 1<<16))
	_ = resp2.Body.Close()
	deadline = time.Now().Add(5 * time.Second)
	for closed.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if closed.Load() != 2 {
		t.Errorf("after the client left, the stream was closed %d times in all, want 2", closed.Load())
	}
}
