package enginetest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

var disconnectTests = []conformanceTest{
	{name: "ClientDisconnectCancelsUpstream", fn: testClientDisconnectCancelsUpstream},
	{name: "ClientDisconnectBeforeAnswer", fn: testClientDisconnectBeforeAnswer},
	{name: "ClientDisconnectCancelsContext", fn: testClientDisconnectCancelsContext},
}

func testClientDisconnectCancelsUpstream(t *testing.T, s *suite) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		http.NewResponseController(w).Flush()
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(WaitLimit):
		}
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("hang", "/hang")))
	ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
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
	waitFor(t, started, "the backend to start")
	cancel()
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(WaitLimit):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
	// The answer had started: the observer counts the backend's status.
	if ob := g.Obs.Next(t); ob.Status != 200 {
		t.Errorf("observer saw %+v", ob)
	}
}

func testClientDisconnectBeforeAnswer(t *testing.T, s *suite) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(WaitLimit):
		}
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("hang", "/hang")))
	leaveWhen(t, g.URL+"/hang", started, "the backend to start")
	select {
	case <-cancelled:
	case <-time.After(WaitLimit):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
	if ob := g.Obs.Next(t); ob.Status != 499 {
		t.Errorf("observer saw %+v, want 499", ob)
	}
}

// contextWaiter is a backend run in-process (a composite's): it holds the
// request until the request's context ends, as a flow's calls would.
type contextWaiter struct {
	started, cancelled chan struct{}
}

func (f contextWaiter) OnRequest(ex *plugin.Exchange) bool {
	ctx := ex.Context()
	close(f.started)
	select {
	case <-ctx.Done():
		close(f.cancelled)
		ex.Reject(http.StatusGatewayTimeout, "cancelled", "the client went away")
	case <-time.After(WaitLimit):
		ex.Respond(http.StatusOK, []byte("never cancelled"))
	}
	return true
}

// testClientDisconnectCancelsContext: a filter answering in-process (no
// upstream call the engine could abort) sees the request's context
// cancelled when the client leaves.
func testClientDisconnectCancelsContext(t *testing.T, s *suite) {
	tbl := Table(t, "", UpstreamOf(t, Backend(t, EchoHandler)), Route("held", "/held"))
	f := contextWaiter{started: make(chan struct{}), cancelled: make(chan struct{})}
	RouteOf(t, tbl, http.MethodGet, "/held").AddRequestFilter(f)
	g := s.gateway(t, tbl)
	leaveWhen(t, g.URL+"/held", f.started, "the filter to start")
	select {
	case <-f.cancelled:
	case <-time.After(WaitLimit):
		t.Fatal("the request's context was not cancelled when the client left")
	}
	if ob := g.Obs.Next(t); ob.Status != 499 && ob.Status != http.StatusGatewayTimeout {
		t.Errorf("observer saw %+v, want 499 (or the filter's 504)", ob)
	}
}

// leaveWhen sends a GET to url and goes away (cancels it) once started is
// closed, checking the client saw its own cancellation.
func leaveWhen(t *testing.T, url string, started chan struct{}, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitLimit)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, started, what)
	cancel()
	if err := waitFor(t, errc, "the client to give up"); !errors.Is(err, context.Canceled) {
		t.Errorf("client error %v, want context.Canceled", err)
	}
}
