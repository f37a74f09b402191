package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testCanaries(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders", "list")
	billing := newService(t, s, "p1", "billing", "pay")
	freeze(t, s, orders, "1.0.0")
	freeze(t, s, orders, "1.1.0")
	deploy(t, s, "default", orders, "1.0.0")
	ctx := testCtx(t)
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }
	get := func(t *testing.T, service, id string) (spec.Canary, error) {
		t.Helper()
		var c spec.Canary
		err := s.Tx(ctx, func(tx store.Tx) error {
			var err error
			c, err = tx.GetCanary(ctx, service, id)
			return err
		})
		return c, err
	}
	running := func(t *testing.T, group, service string) (spec.Canary, error) {
		t.Helper()
		var c spec.Canary
		err := s.Tx(ctx, func(tx store.Tx) error {
			var err error
			c, err = tx.RunningCanary(ctx, group, service)
			return err
		})
		return c, err
	}
	ids := func(cs []spec.Canary) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	newTask := func(svc spec.Service, group string) spec.Canary {
		return spec.Canary{
			ProjectID: svc.ProjectID, ServiceID: svc.ID, Group: group, Name: "rollout", State: spec.CanaryRunning,
			Target: spec.CanaryTarget{Version: "1.1.0"}, Weight: 10, HashOn: "header:X-User", Routes: []string{"list"},
			Rules:          []spec.CanaryRule{{Kind: "header", Name: "X-Beta", Value: "1"}},
			Guard:          &spec.CanaryGuard{MaxErrorRate: 0.05, MinRequests: 20, Window: "1m"},
			BaseVersion:    "1.0.0",
			TargetUpstream: spec.Upstream{Name: "target", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9001, Weight: 1}}},
			CreatedBy:      "tester",
		}
	}

	first := newTask(orders, "default")
	wantErr(t, "CreateCanary", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &first) }), nil)

	t.Run("create and get", func(t *testing.T) {
		if first.ID == "" || first.CreatedAt.IsZero() || !first.UpdatedAt.Equal(first.CreatedAt) {
			t.Fatalf("created canary = %+v, want an id and equal created/updated times", first)
		}
		got, err := get(t, orders.ID, first.ID)
		wantErr(t, "GetCanary", err, nil)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("GetCanary (-created +read):\n%s", diff)
		}
		_, err = get(t, billing.ID, first.ID)
		wantErr(t, "GetCanary through another service", err, store.ErrNotFound)
		_, err = get(t, orders.ID, "nope")
		wantErr(t, "GetCanary of a missing id", err, store.ErrNotFound)
	})

	t.Run("get running", func(t *testing.T) {
		got, err := running(t, "default", orders.ID)
		wantErr(t, "RunningCanary", err, nil)
		if got.ID != first.ID {
			t.Errorf("RunningCanary = %s, want %s", got.ID, first.ID)
		}
		_, err = running(t, "team", orders.ID)
		wantErr(t, "RunningCanary in another group", err, store.ErrNotFound)
		_, err = running(t, "default", billing.ID)
		wantErr(t, "RunningCanary of another service", err, store.ErrNotFound)
	})

	var inTeam, ofBilling spec.Canary
	t.Run("one running per service and group", func(t *testing.T) {
		again := newTask(orders, "default")
		wantErr(t, "a second running task", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &again) }), store.ErrConflict)
		// Another group, or another service, is a task of its own.
		inTeam = newTask(orders, "team")
		wantErr(t, "same service, other group", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &inTeam) }), nil)
		ofBilling = newTask(billing, "default")
		wantErr(t, "other service, same group", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &ofBilling) }), nil)

		noGroup := newTask(orders, "nope")
		wantErr(t, "unknown group", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &noGroup) }), store.ErrNotFound)
		noService := newTask(spec.Service{ProjectID: "p1", ID: "nope"}, "default")
		wantErr(t, "unknown service", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &noService) }), store.ErrNotFound)
	})

	t.Run("update", func(t *testing.T) {
		created := first.CreatedAt
		upd := first
		upd.Weight, upd.HashOn, upd.Guard = 50, "", nil
		wantErr(t, "UpdateCanary", try(func(tx store.Tx) error { return tx.UpdateCanary(ctx, &upd) }), nil)
		got, err := get(t, orders.ID, first.ID)
		wantErr(t, "GetCanary after update", err, nil)
		if diff := cmp.Diff(upd, got); diff != "" {
			t.Errorf("after update (-stored +read):\n%s", diff)
		}
		if !got.CreatedAt.Equal(created) || got.UpdatedAt.Before(created) {
			t.Errorf("times after update: created %v (was %v), updated %v", got.CreatedAt, created, got.UpdatedAt)
		}
		first = got

		missing := upd
		missing.ID = "nope"
		wantErr(t, "UpdateCanary of a missing id", try(func(tx store.Tx) error { return tx.UpdateCanary(ctx, &missing) }), store.ErrNotFound)
		other := upd
		other.ServiceID = billing.ID
		wantErr(t, "UpdateCanary through another service", try(func(tx store.Tx) error { return tx.UpdateCanary(ctx, &other) }), store.ErrNotFound)
	})

	var next spec.Canary
	t.Run("end", func(t *testing.T) {
		ended := first
		at := time.Now().UTC().Truncate(time.Millisecond)
		ended.State, ended.Reason, ended.EndedAt, ended.PromotedVersion = spec.CanaryCompleted, "promoted by tester", &at, "1.1.0"
		wantErr(t, "end the task", try(func(tx store.Tx) error { return tx.UpdateCanary(ctx, &ended) }), nil)
		got, err := get(t, orders.ID, first.ID)
		wantErr(t, "GetCanary of an ended task", err, nil)
		if diff := cmp.Diff(ended, got); diff != "" {
			t.Errorf("ended task (-stored +read):\n%s", diff)
		}
		first = got
		_, err = running(t, "default", orders.ID)
		wantErr(t, "RunningCanary after the end", err, store.ErrNotFound)

		// An ended task frees its place; it cannot run again beside the new one.
		next = newTask(orders, "default")
		wantErr(t, "a new task after the end", try(func(tx store.Tx) error { return tx.CreateCanary(ctx, &next) }), nil)
		reopened := first
		reopened.State = spec.CanaryRunning
		wantErr(t, "reopen beside the new task", try(func(tx store.Tx) error { return tx.UpdateCanary(ctx, &reopened) }), store.ErrConflict)
		got, err = running(t, "default", orders.ID)
		wantErr(t, "RunningCanary", err, nil)
		if got.ID != next.ID {
			t.Errorf("RunningCanary = %s, want the new task %s", got.ID, next.ID)
		}
	})

	t.Run("lists", func(t *testing.T) {
		var all, inDefault, live, none []spec.Canary
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			if all, err = tx.ListCanaries(ctx, orders.ID, ""); err != nil {
				return err
			}
			if inDefault, err = tx.ListCanaries(ctx, orders.ID, "default"); err != nil {
				return err
			}
			if none, err = tx.ListCanaries(ctx, "nope", ""); err != nil {
				return err
			}
			live, err = tx.ListRunningCanaries(ctx)
			return err
		})
		for _, c := range []struct {
			what      string
			got, want []string
		}{
			{"ListCanaries of orders, newest first", ids(all), []string{next.ID, inTeam.ID, first.ID}},
			{"ListCanaries of orders in default", ids(inDefault), []string{next.ID, first.ID}},
			{"ListCanaries of a missing service", ids(none), []string{}},
			{"ListRunningCanaries, oldest first", ids(live), []string{inTeam.ID, ofBilling.ID, next.ID}},
		} {
			if diff := cmp.Diff(c.want, c.got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.what, diff)
			}
		}
	})

	t.Run("snapshot carries the running task", func(t *testing.T) {
		var snap spec.Snapshot
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			snap, err = tx.Snapshot(ctx, []string{"default"})
			return err
		})
		if len(snap.Groups) != 1 || len(snap.Groups[0].Services) != 1 {
			t.Fatalf("snapshot of default = %+v, want orders alone", snap)
		}
		if diff := cmp.Diff(next.Route(), snap.Groups[0].Services[0].Canary); diff != "" {
			t.Errorf("canary of orders in the snapshot (-want +got):\n%s", diff)
		}
	})

	t.Run("deleting the service removes its tasks", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteService(ctx, "p1", billing.ID) })
		_, err := get(t, billing.ID, ofBilling.ID)
		wantErr(t, "GetCanary of a deleted service", err, store.ErrNotFound)
	})
}
