package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webhook"
)

// alertEvery is how often every enabled rule is checked.
const alertEvery = 10 * time.Second

// serviceFigures reads a service's figures in a group, every gateway of
// the group added up (gatewayFigures).
type serviceFigures interface {
	ServicePoints(group, serviceID string, window, step time.Duration) ([]svcstats.Point, bool)
}

// alertEvaluator checks the alert rules against the figures and records
// each real crossing of a threshold: the rule's new state, a line of its
// history and the project's webhook event, in one transaction. It runs
// on one control plane at a time (the housekeeping job); the store's
// compare-and-set on the state keeps a crossing from being recorded
// twice should two ever overlap.
type alertEvaluator struct {
	store   store.Store
	figures serviceFigures
	log     *slog.Logger
	now     func() time.Time
	// enqueue queues the webhook event in the transaction (webhook.Enqueue).
	enqueue func(ctx context.Context, tx store.Tx, project, event string, data any) error
}

func newAlertEvaluator(st store.Store, figures serviceFigures, log *slog.Logger) *alertEvaluator {
	return &alertEvaluator{store: st, figures: figures, log: log, now: time.Now, enqueue: webhook.Enqueue}
}

// run evaluates every alertEvery until ctx ends.
func (e *alertEvaluator) run(ctx context.Context) {
	tick := time.NewTicker(alertEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := e.evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("alert evaluation failed", "err", err)
		}
	}
}

// measurement is a rule's metric over its window and the answers it
// counts.
type measurement struct {
	value    float64
	requests uint64
}

// measure reads the rule's metric over its window from the group-wide
// figures: one point, as the step is the window. No figures is no
// traffic.
func (e *alertEvaluator) measure(r *spec.AlertRule) measurement {
	w := r.WindowDuration()
	pts, ok := e.figures.ServicePoints(r.Group, r.Service, w, w)
	if !ok {
		return measurement{}
	}
	var m measurement
	var errs uint64
	for _, p := range pts {
		m.requests += p.Requests
		errs += p.Errors
		if r.Metric == spec.AlertP99 {
			// Percentiles do not add up: more than one point (never with
			// step = window) keeps the worst.
			m.value = max(m.value, p.P99Ms)
		}
	}
	if r.Metric == spec.AlertErrorRate && m.requests > 0 {
		m.value = float64(errs) / float64(m.requests)
	}
	return m
}

// nextAlertState is the state a rule in state `from` moves to given m; from itself
// when nothing crossed. A rule fires when the value passes the threshold
// over at least MinRequests answers; it resolves when the value is back
// at or under the threshold or the traffic stopped. Between the two (a
// bad value over too few answers) it stays as it is, so a trickle of
// traffic does not make it flap.
func nextAlertState(r *spec.AlertRule, m measurement) string {
	switch r.State {
	case spec.AlertFiring:
		if m.requests == 0 || !r.Passed(m.value) {
			return spec.AlertOK
		}
	default:
		if m.requests >= uint64(r.MinRequests) && r.Passed(m.value) {
			return spec.AlertFiring
		}
	}
	return r.State
}

// evaluate checks every enabled rule once; each change of state is its
// own transaction, so one failure holds back no other rule.
func (e *alertEvaluator) evaluate(ctx context.Context) error {
	var rules []spec.AlertRule
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		rules, err = tx.ListEnabledAlertRules(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("alert rules: %w", err)
	}
	var errs []error
	for i := range rules {
		r := &rules[i]
		m := e.measure(r)
		to := nextAlertState(r, m)
		if to == r.State {
			continue
		}
		if err := e.transition(ctx, r, to, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// transition records r's move to state `to`: the rule, its history and
// the project's webhook event commit together or not at all. A rule
// changed meanwhile (disabled, deleted, moved by another evaluator) is
// left to the next round.
func (e *alertEvaluator) transition(ctx context.Context, r *spec.AlertRule, to string, m measurement) error {
	at := e.now().UTC()
	ev := spec.AlertEvent{Rule: r.ID, RuleName: r.Name, Project: r.Project, Service: r.Service, ServiceName: r.ServiceName,
		Group: r.Group, State: to, Metric: r.Metric, Value: m.value, Threshold: r.Threshold, Window: r.Window,
		Requests: m.requests, At: at}
	event := webhook.EventAlertFiring
	if to == spec.AlertOK {
		ev.State, event = spec.AlertResolved, webhook.EventAlertResolved
	}
	err := e.store.Tx(ctx, func(tx store.Tx) error {
		if err := tx.TransitionAlert(ctx, r.ID, r.State, to, m.value, at); err != nil {
			return err
		}
		if err := tx.AddAlertEvent(ctx, &ev, spec.AlertHistoryKept); err != nil {
			return err
		}
		return e.enqueue(ctx, tx, r.Project, event, ev)
	})
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("alert rule %s of service %s: %s → %s: %w", r.Name, r.ServiceName, r.State, to, err)
	}
	e.log.Info("alert "+ev.State, "project", r.Project, "service", r.ServiceName, "group", r.Group, "rule", r.Name,
		"metric", r.Metric, "value", m.value, "threshold", r.Threshold, "requests", m.requests)
	return nil
}
