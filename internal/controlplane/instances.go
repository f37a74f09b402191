package controlplane

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// embeddedInterval is how often the embedded gateway reports itself.
const embeddedInterval = 10 * time.Second

// embeddedInstance reports the embedded gateway as an instance of each
// group it serves, the way a stand-alone gateway's heartbeats do — its
// figures included, for the other control planes of the store — and
// removes instances long offline.
type embeddedInstance struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	id      string
	started time.Time
	applied atomic.Int64
	totals  *gateway.Totals
	// upstreams reads the embedded gateway's upstream health and
	// registries, which its rows report.
	upstreams *gateway.UpstreamReport
	kick      chan struct{} // an apply: report the new revision now
	figures   *gatewayFigures
	report    *embeddedReporters // only beat uses it
}

// apply notes the revision the embedded gateway now serves and reports
// it without waiting for the interval, so a change's convergence shows at
// once.
func (e *embeddedInstance) apply(rev int64) {
	e.applied.Store(rev)
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func newEmbeddedInstance(st store.Store, opts Options, log *slog.Logger, figures *gatewayFigures) *embeddedInstance {
	return &embeddedInstance{st: st, opts: opts, log: log, id: "embedded-" + feed.NewInstanceID(), started: time.Now().UTC(),
		totals: &gateway.Totals{}, upstreams: &gateway.UpstreamReport{}, kick: make(chan struct{}, 1), figures: figures, report: figures.embeddedReporters(opts.Groups)}
}

func (e *embeddedInstance) run(ctx context.Context, ready *readiness) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			e.goodbye(ready)
			return
		case <-timer.C:
		case <-e.kick:
		}
		if !e.beat(ctx, ready, false) {
			timer.Reset(100 * time.Millisecond) // not listening yet
			continue
		}
		timer.Reset(embeddedInterval)
	}
}

// goodbye marks the embedded gateway stopped in each group, as the
// control plane stops cleanly: it shows offline at once instead of
// lagging behind the next control plane's revisions, then lost.
func (e *embeddedInstance) goodbye(ready *readiness) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e.beat(ctx, ready, true)
}

// beat writes the embedded gateway's row in each group it serves; false
// while the gateway does not listen yet.
func (e *embeddedInstance) beat(ctx context.Context, ready *readiness, stopped bool) bool {
	addr, ok := ready.gatewayAddr()
	if !ok {
		return false
	}
	requests, errs := e.totals.Read()
	rows, rowsErr := e.report.rows(e.figures, e.opts.Groups, time.Now())
	if rowsErr != nil {
		e.log.Warn("could not report the embedded gateway's figures", "err", rowsErr)
	}
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		for _, g := range e.opts.Groups {
			in := spec.GatewayInstance{ID: e.id + "-" + g, Group: g, Embedded: true, Hostname: feed.Hostname(),
				Addresses: []string{addr}, Version: e.opts.Version, Engine: engineName(e.opts.Engine), Revision: e.applied.Load(),
				StartedAt: e.started, LastSeen: time.Now().UTC(), Interval: embeddedInterval, Requests: requests, Errors: errs, Stopped: stopped,
				UpstreamHealth: e.upstreams.Health(g), Registries: e.upstreams.Registries(g)}
			if err := tx.PutGatewayInstance(ctx, &in); err != nil {
				return err
			}
		}
		for _, row := range rows {
			if err := tx.AddFigureReport(ctx, row); err != nil {
				return err
			}
		}
		return nil
	})
	// A commit that failed in a way that hides its success would have the
	// figures sent again and counted twice by the other control planes:
	// rare, and an over-count of one beat, not a loss.
	switch {
	case err == nil && rowsErr == nil:
		e.report.commit()
	case ctx.Err() == nil:
		e.log.Warn("could not record the embedded gateway's heartbeat", "err", err)
	}
	return true
}

// expire removes the instances offline for an hour, every
// embeddedInterval until ctx ends (one control plane of a shared store
// does it: store.Lead).
func (e *embeddedInstance) expire(ctx context.Context) {
	offline := e.opts.InstanceOfflineAfter
	if offline <= 0 {
		offline = adminapi.DefaultInstanceOfflineAfter
	}
	tick := time.NewTicker(embeddedInterval)
	defer tick.Stop()
	for {
		if _, err := e.prune(ctx, time.Now().Add(-offline-time.Hour)); err != nil && ctx.Err() == nil {
			e.log.Warn("could not remove instances long offline", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (e *embeddedInstance) prune(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.PruneGatewayInstances(ctx, cutoff)
		return err
	})
	return n, err
}

func engineName(e string) string {
	if e == "" {
		return gateway.EngineFast
	}
	return e
}
