package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Source delivers config snapshots. The control plane in process and the
// remote feed client of a stand-alone gateway both satisfy it.
type Source interface {
	// Next blocks until a snapshot of the groups with a revision greater than
	// after exists (or ctx ends) and returns the latest one. A poll always
	// returns the latest revision, so bursts of changes coalesce.
	Next(ctx context.Context, groups []string, after int64) (*spec.Snapshot, error)
}

// Options configure Run.
type Options struct {
	Addr       string   // gateway listener, e.g. ":9080"
	StatusAddr string   // /healthz, /readyz, /metrics; empty disables
	Groups     []string // gateway groups served
	Source     Source
	Logger     *slog.Logger
	// DrainTimeout bounds how long shutdown waits for in-flight requests.
	DrainTimeout time.Duration
	// OnListen, when set, is called with the bound addresses once both
	// listeners are open (tests use ":0").
	OnListen func(gateway, status string)
	// OnApply, when set, is called after each snapshot is swapped in.
	OnApply func(revision int64)
}
