package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testAlerts covers alert rules and their history: create, read with the
// service's name, firing first, the state's compare-and-set, the trimmed
// history, and both going with their service.
func testAlerts(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	tx := func(fn func(ctx context.Context, tx store.Tx) error) { t.Helper(); inTx(t, s, fn) }
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }

	orders := newService(t, s, "p1", "orders", "list")
	billing := newService(t, s, "p1", "billing", "pay")
	other := newService(t, s, "p2", "weather", "today")
	rule := func(svc spec.Service, name string) spec.AlertRule {
		return spec.AlertRule{Project: svc.ProjectID, Service: svc.ID, Group: "team", Name: name, Metric: spec.AlertErrorRate,
			Threshold: 0.05, Window: "1m", MinRequests: 10, Enabled: true}
	}
	a, b, c := rule(orders, "errors"), rule(billing, "slow"), rule(other, "errors")
	b.Metric, b.Threshold = spec.AlertP99, 250.5
	for _, r := range []*spec.AlertRule{&a, &b, &c} {
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateAlertRule(ctx, r) })
	}
	if a.ID == "" || a.State != spec.AlertOK || a.CreatedAt.IsZero() {
		t.Fatalf("created rule = %+v", a)
	}
	dup := rule(orders, "errors")
	wantErr(t, "a second rule of that name", try(func(tx store.Tx) error { return tx.CreateAlertRule(ctx, &dup) }), store.ErrConflict)
	wrong := rule(other, "x")
	wrong.Project = "p1" // the service is p2's
	wantErr(t, "a rule of another project's service", try(func(tx store.Tx) error { return tx.CreateAlertRule(ctx, &wrong) }), store.ErrNotFound)

	t.Run("read", func(t *testing.T) {
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetAlertRule(ctx, billing.ID, b.ID)
			if err != nil {
				return err
			}
			if got.ServiceName != "billing" || got.Threshold != 250.5 || got.Metric != spec.AlertP99 || got.Window != "1m" ||
				got.MinRequests != 10 || !got.Enabled || got.Group != "team" || got.Project != "p1" {
				t.Errorf("rule read back = %+v", got)
			}
			_, err = tx.GetAlertRule(ctx, orders.ID, b.ID)
			wantErr(t, "a rule under another service", err, store.ErrNotFound)
			return nil
		})
	})

	names := func(rs []spec.AlertRule) string {
		out := ""
		for _, r := range rs {
			out += r.ServiceName + "/" + r.Name + ":" + r.State + " "
		}
		return out
	}
	t.Run("transition", func(t *testing.T) {
		at := time.Unix(1767225600, 0)
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.TransitionAlert(ctx, a.ID, spec.AlertOK, spec.AlertFiring, 0.5, at)
		})
		// The same crossing seen twice (another evaluator) is refused.
		wantErr(t, "a second ok → firing", try(func(tx store.Tx) error {
			return tx.TransitionAlert(ctx, a.ID, spec.AlertOK, spec.AlertFiring, 0.5, at)
		}), store.ErrConflict)
		wantErr(t, "a missing rule", try(func(tx store.Tx) error {
			return tx.TransitionAlert(ctx, "nope", spec.AlertOK, spec.AlertFiring, 0.5, at)
		}), store.ErrNotFound)
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetAlertRule(ctx, orders.ID, a.ID)
			if err != nil {
				return err
			}
			if got.State != spec.AlertFiring || got.LastValue != 0.5 || !got.FiredAt.Equal(at) || !got.ResolvedAt.IsZero() {
				t.Errorf("after firing: %+v", got)
			}
			all, err := tx.ListAlertRules(ctx, "p1", "")
			if err != nil {
				return err
			}
			if got, want := names(all), "orders/errors:firing billing/slow:ok "; got != want {
				t.Errorf("rules of p1 = %q, want %q (firing first)", got, want)
			}
			one, err := tx.ListAlertRules(ctx, "p1", billing.ID)
			if err != nil {
				return err
			}
			if got, want := names(one), "billing/slow:ok "; got != want {
				t.Errorf("rules of billing = %q, want %q", got, want)
			}
			return nil
		})
		later := at.Add(time.Minute)
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.TransitionAlert(ctx, a.ID, spec.AlertFiring, spec.AlertOK, 0.01, later)
		})
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetAlertRule(ctx, orders.ID, a.ID)
			if err != nil {
				return err
			}
			if got.State != spec.AlertOK || got.LastValue != 0.01 || !got.FiredAt.Equal(at) || !got.ResolvedAt.Equal(later) {
				t.Errorf("after resolving: %+v", got)
			}
			return nil
		})
	})

	t.Run("update and enabled", func(t *testing.T) {
		b.Enabled, b.Threshold, b.Name = false, 300, "slower"
		tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateAlertRule(ctx, &b) })
		wantErr(t, "renaming onto a sibling", try(func(tx store.Tx) error {
			r := rule(orders, "x")
			if err := tx.CreateAlertRule(ctx, &r); err != nil {
				return err
			}
			r.Name = "errors"
			return tx.UpdateAlertRule(ctx, &r)
		}), store.ErrConflict)
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetAlertRule(ctx, billing.ID, b.ID)
			if err != nil {
				return err
			}
			if got.Enabled || got.Threshold != 300 || got.Name != "slower" || !got.CreatedAt.Equal(b.CreatedAt) {
				t.Errorf("updated rule = %+v", got)
			}
			enabled, err := tx.ListEnabledAlertRules(ctx)
			if err != nil {
				return err
			}
			if len(enabled) != 2 {
				t.Errorf("enabled rules = %s, want orders/errors and weather/errors", names(enabled))
			}
			return nil
		})
		wantErr(t, "a disabled rule cannot fire", try(func(tx store.Tx) error {
			return tx.TransitionAlert(ctx, b.ID, spec.AlertOK, spec.AlertFiring, 900, time.Now())
		}), store.ErrConflict)
	})

	t.Run("history", func(t *testing.T) {
		base := time.Unix(1767225600, 0)
		tx(func(ctx context.Context, tx store.Tx) error {
			for i := range 5 {
				state := spec.AlertFiring
				if i%2 == 1 {
					state = spec.AlertResolved
				}
				ev := spec.AlertEvent{Rule: a.ID, RuleName: a.Name, Project: "p1", Service: orders.ID, ServiceName: "orders",
					Group: "team", State: state, Metric: a.Metric, Value: float64(i), Threshold: a.Threshold, Window: a.Window,
					Requests: uint64(100 + i), At: base.Add(time.Duration(i) * time.Second)}
				if err := tx.AddAlertEvent(ctx, &ev, 3); err != nil {
					return err
				}
			}
			ev := spec.AlertEvent{Rule: c.ID, Project: "p2", Service: other.ID, State: spec.AlertFiring, At: base}
			if err := tx.AddAlertEvent(ctx, &ev, 3); err != nil {
				return err
			}
			got, err := tx.ListAlertEvents(ctx, "p1", "", 10)
			if err != nil {
				return err
			}
			if len(got) != 3 || got[0].Value != 4 || got[2].Value != 2 || got[0].Requests != 104 || got[0].ServiceName != "orders" ||
				!got[0].At.Equal(base.Add(4*time.Second)) || got[1].State != spec.AlertResolved {
				t.Errorf("history of p1 (newest 3 kept, newest first) = %+v", got)
			}
			one, err := tx.ListAlertEvents(ctx, "p1", a.ID, 1)
			if err != nil {
				return err
			}
			if len(one) != 1 || one[0].Value != 4 {
				t.Errorf("newest event of the rule = %+v", one)
			}
			return nil
		})
		wantErr(t, "history of a missing rule", try(func(tx store.Tx) error {
			return tx.AddAlertEvent(ctx, &spec.AlertEvent{Rule: "nope", At: base}, 3)
		}), store.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, "deleting under another service", try(func(tx store.Tx) error { return tx.DeleteAlertRule(ctx, billing.ID, a.ID) }), store.ErrNotFound)
		tx(func(ctx context.Context, tx store.Tx) error { return tx.DeleteAlertRule(ctx, billing.ID, b.ID) })
		// The service goes: its rules and their history go with it.
		tx(func(ctx context.Context, tx store.Tx) error { return tx.DeleteService(ctx, "p1", orders.ID) })
		tx(func(ctx context.Context, tx store.Tx) error {
			rs, err := tx.ListAlertRules(ctx, "p1", "")
			if err != nil {
				return err
			}
			evs, err := tx.ListAlertEvents(ctx, "p1", "", 10)
			if err != nil {
				return err
			}
			if len(rs) != 0 || len(evs) != 0 {
				t.Errorf("after deleting the service: rules %s, history %+v", names(rs), evs)
			}
			return nil
		})
	})
}
