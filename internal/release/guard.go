package release

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// GuardFigures reads what the gateways saw of a running canary.
type GuardFigures interface {
	// TargetFigures sums the target side over the last window.
	TargetFigures(id string, window time.Duration) (spec.SideFigures, bool)
	// CanaryFigures are both sides over 1, 5 and 15 minutes.
	CanaryFigures(id string) ([]spec.CanaryWindow, bool)
}

// GuardActor is the actor the guard's cancels are recorded under.
const GuardActor = "canary-guard"

// Guard is the canary's automatic brake: every Interval it checks the
// running tasks that have a guard and cancels those whose target's error
// rate passed the limit, saying why in the task and the history.
type Guard struct {
	Store    store.Store
	Figures  GuardFigures
	Logger   *slog.Logger
	Interval time.Duration // default 1 s
}

// Run checks until ctx ends.
func (g *Guard) Run(ctx context.Context) error {
	if g.Interval <= 0 {
		g.Interval = time.Second
	}
	tick := time.NewTicker(g.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := g.Check(ctx); err != nil && ctx.Err() == nil {
			g.log().Warn("canary guard check failed", "err", err)
		}
	}
}

// Check runs one round: each tripped task is cancelled in its own
// transaction, so one failure does not hold back the others.
func (g *Guard) Check(ctx context.Context) error {
	var running []spec.Canary
	err := g.Store.Tx(ctx, func(tx store.Tx) error {
		var err error
		running, err = tx.ListRunningCanaries(ctx)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range running {
		if c.Guard == nil {
			continue
		}
		f, ok := g.Figures.TargetFigures(c.ID, c.Guard.WindowDuration())
		if !ok {
			continue
		}
		reason, tripped := c.Guard.GuardTripped(f)
		if !tripped {
			continue
		}
		final, _ := g.Figures.CanaryFigures(c.ID)
		err := g.Store.Tx(ctx, func(tx store.Tx) error {
			_, err := CancelCanary(ctx, tx, GuardActor, c.ProjectID, c.ServiceID, c.ID, reason, final)
			return err
		})
		switch {
		case errors.Is(err, store.ErrConflict):
			// Ended by someone else meanwhile.
		case err != nil:
			errs = append(errs, err)
		default:
			g.log().Warn("canary cancelled by its guard", "canary", c.ID, "service", c.ServiceID, "group", c.Group, "reason", reason)
		}
	}
	return errors.Join(errs...)
}

func (g *Guard) log() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}
