package nethttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// serve runs a Server with cfg on a loopback listener; it returns the base
// URL and a channel that receives Serve's result.
func serve(t *testing.T, cfg Config) (*Server, string, <-chan error) {
	t.Helper()
	srv := NewServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, "http://" + ln.Addr().String(), served
}

func wantServeNil(t *testing.T, served <-chan error) {
	t.Helper()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	case <-time.After(enginetest.WaitLimit):
		t.Fatal("Serve did not return")
	}
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-time.After(enginetest.WaitLimit):
		}
		_, _ = io.WriteString(w, "finished")
	})
	var table atomic.Pointer[routing.Table]
	table.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("slow", "/slow")))
	srv, url, served := serve(t, Config{Table: &table})

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := enginetest.Client.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{resp.StatusCode, string(body), err}
	}()
	<-arrived

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), enginetest.WaitLimit)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	// Shutdown waits for the request; new connections are refused.
	deadline := time.Now().Add(enginetest.WaitLimit)
	for {
		c, err := net.Dial("tcp", url[len("http://"):])
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts after Shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.status != 200 || r.body != "finished" {
		t.Errorf("in-flight request: %d %q %v, want 200 finished", r.status, r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	wantServeNil(t, served)
}

func TestShutdownGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	be := enginetest.Backend(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-time.After(enginetest.WaitLimit):
		}
	})
	var table atomic.Pointer[routing.Table]
	table.Store(enginetest.Table(t, "", enginetest.UpstreamOf(t, be), enginetest.Route("stuck", "/stuck")))
	srv, url, served := serve(t, Config{Table: &table})
	go func() {
		if resp, err := enginetest.Client.Get(url + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(enginetest.WaitLimit):
		t.Fatal("the request never reached the backend")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck request: %v, want context.DeadlineExceeded", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wantServeNil(t, served)
}

func TestCloseStopsServe(t *testing.T) {
	t.Parallel()
	var table atomic.Pointer[routing.Table]
	srv, url, served := serve(t, Config{Table: &table})
	resp, body := enginetest.Get(t, url+"/x")
	enginetest.WantError(t, resp, body, http.StatusServiceUnavailable) // no table yet: nil Observer and Logger work
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wantServeNil(t, served)
}

func TestNewServerDefaults(t *testing.T) {
	s := NewServer(Config{Table: new(atomic.Pointer[routing.Table])})
	got := []any{s.srv.MaxHeaderBytes, s.srv.ReadHeaderTimeout, s.srv.IdleTimeout, s.send, s.h.bodyTimeout, s.h.maxBody}
	want := []any{engine.DefaultMaxHeaderBytes, engine.DefaultReadHeaderTimeout, engine.DefaultIdleTimeout, engine.DefaultSendTimeout, engine.DefaultBodyTimeout, int64(0)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("default %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
