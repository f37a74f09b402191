package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// Retention of the call log (Options.CallLogRetention and
// CallLogMaxPerGroup).
const (
	DefaultCallLogRetention   = 24 * time.Hour
	DefaultCallLogMaxPerGroup = 100_000
	// MinCallLogRetention is the shortest retention accepted: a call must
	// stay long enough for someone to look it up.
	MinCallLogRetention = time.Minute
	// callLogPruneEvery is how often the log is pruned: often, so that
	// each prune deletes a minute of traffic rather than a day of it, and
	// the count per group is never exceeded for long.
	callLogPruneEvery = time.Minute
)

// callLogRetention is what retainCallLogs keeps.
type callLogRetention struct {
	keep        time.Duration
	maxPerGroup int
	now         func() time.Time // nil: time.Now
}

// retainCallLogs prunes the call log at once and then every minute,
// until ctx ends. It runs in the housekeeping, on one control plane of
// the store at a time (store.Lead).
func retainCallLogs(ctx context.Context, st store.Store, r callLogRetention, log *slog.Logger) {
	now := r.now
	if now == nil {
		now = time.Now
	}
	tick := time.NewTicker(callLogPruneEvery)
	defer tick.Stop()
	for {
		var n int64
		err := st.Tx(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.PruneCallRecords(ctx, now().Add(-r.keep), r.maxPerGroup)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("could not prune the call log", "err", err)
		case err == nil:
			log.Debug("call log pruned", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkCallLogRetention refuses a retention under MinCallLogRetention and
// a negative count; zero values take the defaults (Options.defaults).
func checkCallLogRetention(keep time.Duration, maxPerGroup int) error {
	if keep < MinCallLogRetention {
		return fmt.Errorf("--call-log-retention %s: keep calls at least %s", keep, MinCallLogRetention)
	}
	if maxPerGroup < 1 {
		return fmt.Errorf("--call-log-max-per-group %d: keep at least one call per gateway group", maxPerGroup)
	}
	return nil
}
