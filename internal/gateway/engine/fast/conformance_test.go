package fast

import (
	"log/slog"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
)

// TestConformance runs the engine-neutral suite against this engine. It
// has no quirks: every ambiguous request is refused.
func TestConformance(t *testing.T) {
	enginetest.Run(t, enginetest.Engine{Start: startFast})
}

func startFast(t testing.TB, cfg enginetest.Config) string {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	return enginetest.ServeLoopback(t, NewServer(cfg))
}
