package nethttp

import (
	"log/slog"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
)

// TestConformance runs the engine-neutral suite against this engine.
func TestConformance(t *testing.T) { enginetest.Run(t, engine) }

// engine is the net/http engine as the suite drives it. net/http's own
// parser accepts some ambiguous heads (obs-fold, two equal
// Content-Lengths, Content-Length beside chunked); the engine reads the
// same bytes off the connection and refuses them (sniff.go), so it has no
// quirks either.
var engine = enginetest.Engine{Start: startNetHTTP}

func startNetHTTP(t testing.TB, cfg enginetest.Config) string {
	t.Helper()
	return enginetest.ServeLoopback(t, NewServer(Config{
		Table:             cfg.Table,
		Observer:          cfg.Observer,
		Logger:            slog.New(slog.DiscardHandler),
		MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
		MaxBodyBytes:      cfg.Limits.MaxBodyBytes,
		ReadHeaderTimeout: cfg.Limits.ReadHeaderTimeout,
		BodyTimeout:       cfg.Limits.BodyTimeout,
		SendTimeout:       cfg.Limits.SendTimeout,
		IdleTimeout:       cfg.Limits.IdleTimeout,
	}))
}
