package fast

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// TestShutdownBeforeServe: a gateway told to stop before its Serve
// goroutine ran (a failed start) does not leave Serve accepting for ever.
func TestShutdownBeforeServe(t *testing.T) {
	var tp atomic.Pointer[routing.Table]
	srv := NewServer(Config{Table: &tp, Observer: enginetest.Discard{}, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	case <-time.After(enginetest.WaitLimit):
		t.Fatal("Serve still accepting after Shutdown")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts")
	}
}
