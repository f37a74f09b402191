package nethttp

import (
	"log/slog"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
)

// TestConformance runs the engine-neutral suite against this engine.
func TestConformance(t *testing.T) { enginetest.Run(t, netHTTPEngine) }

// netHTTPEngine is the net/http engine as the suite drives it. net/http's own
// parser accepts some ambiguous heads (obs-fold, two equal
// Content-Lengths, Content-Length beside chunked); the engine reads the
// same bytes off the connection and refuses them (sniff.go), so it has no
// quirks either.
var netHTTPEngine = enginetest.Engine{Start: startNetHTTP}

func startNetHTTP(t testing.TB, cfg enginetest.Config) string {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	return enginetest.ServeLoopback(t, NewServer(cfg))
}
