package enginetest

import (
	"context"
	"net"
	"testing"
	"time"
)

// Server is what both engines' servers offer.
type Server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// ServeLoopback serves srv on a fresh 127.0.0.1 listener and returns its
// base URL. Cleanup shuts it down and checks that Shutdown finished (no
// request left running) and Serve returned nil.
func ServeLoopback(t testing.TB, srv Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v (a request was still running)", err)
			_ = srv.Close()
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve returned %v after Shutdown, want nil", err)
			}
		case <-time.After(WaitLimit):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return "http://" + ln.Addr().String()
}
