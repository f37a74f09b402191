package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testDeployments(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders", "list")
	billing := newService(t, s, "p1", "billing", "pay")
	alpha := newService(t, s, "p2", "alpha", "x")
	for _, svc := range []spec.Service{orders, billing, alpha} {
		freeze(t, s, svc, "1.0.0")
	}
	freeze(t, s, orders, "1.1.0")
	ctx := testCtx(t)

	first := deploy(t, s, "default", orders, "1.0.0")
	if first.UpdatedAt.IsZero() {
		t.Fatalf("PutDeployment did not fill UpdatedAt: %+v", first)
	}

	t.Run("get", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetDeployment(ctx, "default", orders.ID)
			wantErr(t, "GetDeployment", err, nil)
			if diff := cmp.Diff(first, got); diff != "" {
				t.Errorf("GetDeployment (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	var ordersDefault spec.Deployment
	t.Run("put replaces", func(t *testing.T) {
		ordersDefault = deploy(t, s, "default", orders, "1.1.0")
		if ordersDefault.UpdatedAt.Before(first.UpdatedAt) {
			t.Errorf("UpdatedAt went back: %v -> %v", first.UpdatedAt, ordersDefault.UpdatedAt)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetDeployment(ctx, "default", orders.ID)
			wantErr(t, "GetDeployment", err, nil)
			if diff := cmp.Diff(ordersDefault, got); diff != "" {
				t.Errorf("GetDeployment after replace (-want +got):\n%s", diff)
			}
			all, err := tx.ListDeploymentsByService(ctx, orders.ID)
			wantErr(t, "ListDeploymentsByService", err, nil)
			if len(all) != 1 {
				t.Errorf("ListDeploymentsByService = %d deployments, want 1 after a replace", len(all))
			}
			return nil
		})
	})

	t.Run("list per group and per service", func(t *testing.T) {
		// Created out of the expected order: the group's list is ordered by
		// project, then service name.
		alphaDefault := deploy(t, s, "default", alpha, "1.0.0")
		ordersTeam := deploy(t, s, "team", orders, "1.0.0")
		billingDefault := deploy(t, s, "default", billing, "1.0.0")
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListDeploymentsByGroup(ctx, "default")
			wantErr(t, "ListDeploymentsByGroup default", err, nil)
			if diff := cmp.Diff([]spec.Deployment{billingDefault, ordersDefault, alphaDefault}, got); diff != "" {
				t.Errorf("ListDeploymentsByGroup default (-want +got):\n%s", diff)
			}
			got, err = tx.ListDeploymentsByGroup(ctx, "team")
			wantErr(t, "ListDeploymentsByGroup team", err, nil)
			if diff := cmp.Diff([]spec.Deployment{ordersTeam}, got); diff != "" {
				t.Errorf("ListDeploymentsByGroup team (-want +got):\n%s", diff)
			}
			got, err = tx.ListDeploymentsByService(ctx, orders.ID)
			wantErr(t, "ListDeploymentsByService", err, nil)
			if diff := cmp.Diff([]spec.Deployment{ordersDefault, ordersTeam}, got); diff != "" {
				t.Errorf("ListDeploymentsByService (-want +got):\n%s", diff)
			}
			got, err = tx.ListDeploymentsByGroup(ctx, "nope")
			wantErr(t, "ListDeploymentsByGroup of an unknown group", err, nil)
			if len(got) != 0 {
				t.Errorf("ListDeploymentsByGroup of an unknown group = %v", got)
			}
			got, err = tx.ListDeploymentsByService(ctx, "nope")
			wantErr(t, "ListDeploymentsByService of an unknown service", err, nil)
			if len(got) != 0 {
				t.Errorf("ListDeploymentsByService of an unknown service = %v", got)
			}
			return nil
		})
	})

	put := func(group, service, version string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			return tx.PutDeployment(ctx, &spec.Deployment{Group: group, ProjectID: "p1", ServiceID: service, Version: version})
		}
	}
	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"get not deployed there", func(tx store.Tx) error { _, err := tx.GetDeployment(ctx, "team", billing.ID); return err }, store.ErrNotFound},
		{"get unknown group", func(tx store.Tx) error { _, err := tx.GetDeployment(ctx, "nope", orders.ID); return err }, store.ErrNotFound},
		{"get unknown service", func(tx store.Tx) error { _, err := tx.GetDeployment(ctx, "default", "nope"); return err }, store.ErrNotFound},
		{"put unknown group", put("nope", orders.ID, "1.0.0"), store.ErrNotFound},
		{"put unknown service", put("default", "nope", "1.0.0"), store.ErrNotFound},
		{"put unknown version", put("team", billing.ID, "9.9.9"), store.ErrNotFound},
		{"put version of another service", put("team", billing.ID, "1.1.0"), store.ErrNotFound},
		{"delete not deployed there", func(tx store.Tx) error { return tx.DeleteDeployment(ctx, "team", billing.ID) }, store.ErrNotFound},
		{"delete group still deployed to", func(tx store.Tx) error { return tx.DeleteGroup(ctx, "team") }, store.ErrConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}

	t.Run("delete", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDeployment(ctx, "team", orders.ID) })
		err := s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetDeployment(ctx, "team", orders.ID); return err })
		wantErr(t, "GetDeployment after delete", err, store.ErrNotFound)
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListDeploymentsByService(ctx, orders.ID)
			wantErr(t, "ListDeploymentsByService", err, nil)
			if len(got) != 1 || got[0].Group != "default" {
				t.Errorf("after delete, orders runs in %v, want only default", got)
			}
			// The group is empty now, so it may go.
			return tx.DeleteGroup(ctx, "team")
		})
	})
}

func testHistoryAndAudit(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders")
	billing := newService(t, s, "p1", "billing")
	ctx := testCtx(t)
	fixed := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

	t.Run("history", func(t *testing.T) {
		events := []spec.HistoryEvent{
			{ProjectID: "p1", ServiceID: orders.ID, Group: "default", Action: "publish", Version: "1.0.0", Actor: "alice", Revision: 1, At: fixed},
			{ProjectID: "p1", ServiceID: billing.ID, Group: "default", Action: "publish", Version: "2.0.0", Actor: "bob", Revision: 2},
			{ProjectID: "p1", ServiceID: orders.ID, Group: "default", Action: "publish", Version: "1.1.0", FromVersion: "1.0.0", Revision: 3},
			{ProjectID: "p1", ServiceID: orders.ID, Group: "team", Action: "rollback", Version: "1.0.0", FromVersion: "1.1.0", Detail: "bad deploy", Revision: 4},
		}
		// One per transaction, as release.Commit does it.
		for i := range events {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddHistory(ctx, &events[i]) })
			if i > 0 && events[i].ID <= events[i-1].ID {
				t.Errorf("history ids not increasing: %d then %d", events[i-1].ID, events[i].ID)
			}
			if events[i].At.IsZero() {
				t.Errorf("AddHistory did not fill At: %+v", events[i])
			}
		}
		if !events[0].At.Equal(fixed) {
			t.Errorf("AddHistory changed a given At: %v, want %v", events[0].At, fixed)
		}

		list := func(service string, q store.ListQuery) ([]spec.HistoryEvent, int) {
			t.Helper()
			var got []spec.HistoryEvent
			var total int
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				var err error
				got, total, err = tx.ListHistory(ctx, service, q)
				return err
			})
			return got, total
		}
		got, total := list(orders.ID, store.ListQuery{})
		want := []spec.HistoryEvent{events[3], events[2], events[0]}
		if diff := cmp.Diff(want, got); diff != "" || total != 3 {
			t.Errorf("ListHistory newest first, total %d (-want +got):\n%s", total, diff)
		}
		got, total = list(billing.ID, store.ListQuery{})
		if diff := cmp.Diff([]spec.HistoryEvent{events[1]}, got); diff != "" || total != 1 {
			t.Errorf("ListHistory of another service, total %d (-want +got):\n%s", total, diff)
		}
		got, total = list("nope", store.ListQuery{})
		if len(got) != 0 || total != 0 {
			t.Errorf("ListHistory of an unknown service = %d events, total %d", len(got), total)
		}
		got, total = list(orders.ID, store.ListQuery{Q: "ROLLBACK"})
		if diff := cmp.Diff([]spec.HistoryEvent{events[3]}, got); diff != "" || total != 1 {
			t.Errorf("ListHistory Q=ROLLBACK, total %d (-want +got):\n%s", total, diff)
		}
		got, total = list(orders.ID, store.ListQuery{PageSize: 2, Page: 2})
		if diff := cmp.Diff([]spec.HistoryEvent{events[0]}, got); diff != "" || total != 3 {
			t.Errorf("ListHistory page 2 of 2, total %d (-want +got):\n%s", total, diff)
		}

		err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.AddHistory(ctx, &spec.HistoryEvent{ProjectID: "p1", ServiceID: "nope", Group: "default", Action: "publish"})
		})
		wantErr(t, "AddHistory of an unknown service", err, store.ErrNotFound)
	})

	t.Run("audit", func(t *testing.T) {
		events := []spec.AuditEvent{
			{Actor: "alice", Action: "service.create", Resource: "/projects/p1/services/" + orders.ID, Detail: raw(`{"name":"orders"}`), At: fixed},
			{Actor: "bob", Action: "group.update", Resource: "/gateway_groups/default"},
			{Actor: "alice", Action: "service.publish", Resource: "/projects/p1/services/" + orders.ID, Detail: raw(`[1,2,3]`)},
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for i := range events {
				if err := tx.AddAudit(ctx, &events[i]); err != nil {
					return err
				}
			}
			return nil
		})
		for i := range events {
			if events[i].ID == 0 || events[i].At.IsZero() {
				t.Errorf("AddAudit did not fill ID and At: %+v", events[i])
			}
			if i > 0 && events[i].ID <= events[i-1].ID {
				t.Errorf("audit ids not increasing: %d then %d", events[i-1].ID, events[i].ID)
			}
		}
		if !events[0].At.Equal(fixed) {
			t.Errorf("AddAudit changed a given At: %v, want %v", events[0].At, fixed)
		}

		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{})
			wantErr(t, "ListAudit", err, nil)
			if diff := cmp.Diff([]spec.AuditEvent{events[2], events[1], events[0]}, got); diff != "" || total != 3 {
				t.Errorf("ListAudit newest first, total %d (-want +got):\n%s", total, diff)
			}
			got, total, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{Q: "Alice"})
			wantErr(t, "ListAudit Q", err, nil)
			if diff := cmp.Diff([]spec.AuditEvent{events[2], events[0]}, got); diff != "" || total != 2 {
				t.Errorf("ListAudit Q=Alice, total %d (-want +got):\n%s", total, diff)
			}
			got, total, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{Q: "publish"})
			wantErr(t, "ListAudit Q", err, nil)
			if diff := cmp.Diff([]spec.AuditEvent{events[2]}, got); diff != "" || total != 1 {
				t.Errorf("ListAudit Q=publish, total %d (-want +got):\n%s", total, diff)
			}
			return nil
		})

		err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.AddAudit(ctx, &spec.AuditEvent{Actor: "x", Action: "bad", Detail: raw(`{not json`)})
		})
		if err == nil {
			t.Errorf("AddAudit with invalid JSON detail succeeded")
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{})
			if total != len(events) {
				t.Errorf("audit total = %d after a failed AddAudit, want %d", total, len(events))
			}
			return err
		})
	})
}

func testSnapshot(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders", "list", "get")
	billing := newService(t, s, "p1", "billing", "pay")
	alpha := newService(t, s, "p2", "alpha", "x")
	ordersV1 := freeze(t, s, orders, "1.0.0")
	billingV1 := freeze(t, s, billing, "1.0.0")
	alphaV1 := freeze(t, s, alpha, "1.0.0")
	ordersDefault := deploy(t, s, "default", orders, "1.0.0")
	alphaDefault := deploy(t, s, "default", alpha, "1.0.0")
	billingTeam := deploy(t, s, "team", billing, "1.0.0")
	var revDefault, revTeam int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		if revDefault, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
			return err
		}
		revTeam, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "team"})
		return err
	})

	// Editing the live service must not change what runs.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		live := orders
		live.Routes, live.Path = nil, "/changed"
		if err := tx.UpdateService(ctx, &live); err != nil {
			return err
		}
		return tx.CreateRoute(ctx, &spec.Route{ServiceID: orders.ID, Name: "extra"})
	})

	snapshot := func(groups ...string) spec.Snapshot {
		t.Helper()
		var snap spec.Snapshot
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			snap, err = tx.Snapshot(ctx, groups)
			return err
		})
		return snap
	}
	group := func(name string) spec.GatewayGroup {
		t.Helper()
		var g spec.GatewayGroup
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			g, err = tx.GetGroup(ctx, name)
			return err
		})
		return g
	}
	running := func(v spec.Version, d spec.Deployment) spec.DeployedService {
		return spec.DeployedService{ProjectID: v.ProjectID, Version: v.Version, Service: v.Service, Upstream: d.Upstream}
	}
	defaultSnap := spec.GroupSnapshot{Group: group("default"), Services: []spec.DeployedService{
		running(ordersV1, ordersDefault), running(alphaV1, alphaDefault),
	}}
	teamSnap := spec.GroupSnapshot{Group: group("team"), Services: []spec.DeployedService{running(billingV1, billingTeam)}}

	t.Run("one group", func(t *testing.T) {
		got := snapshot("default")
		want := spec.Snapshot{Revision: revDefault, Groups: []spec.GroupSnapshot{defaultSnap}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Snapshot(default) (-want +got):\n%s", diff)
		}
		if n := len(got.Groups[0].Services[0].Service.Routes); n != 2 {
			t.Errorf("deployed orders has %d routes, want the 2 frozen in its version", n)
		}
	})

	t.Run("groups in the order given, highest revision", func(t *testing.T) {
		got := snapshot("team", "default")
		want := spec.Snapshot{Revision: max(revDefault, revTeam), Groups: []spec.GroupSnapshot{teamSnap, defaultSnap}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Snapshot(team, default) (-want +got):\n%s", diff)
		}
	})

	t.Run("unknown groups are skipped", func(t *testing.T) {
		got := snapshot("nope", "team")
		want := spec.Snapshot{Revision: revTeam, Groups: []spec.GroupSnapshot{teamSnap}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Snapshot(nope, team) (-want +got):\n%s", diff)
		}
		got = snapshot("nope")
		if got.Revision != 0 || len(got.Groups) != 0 {
			t.Errorf("Snapshot(nope) = %+v, want nothing", got)
		}
	})

	t.Run("empty group", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "empty", PathPrefix: "/e"})
		})
		got := snapshot("empty")
		if len(got.Groups) != 1 || got.Groups[0].Group.Name != "empty" || len(got.Groups[0].Services) != 0 || got.Revision != 0 {
			t.Errorf("Snapshot(empty) = %+v, want the group with no services at revision 0", got)
		}
	})

	t.Run("redeploy shows the new version", func(t *testing.T) {
		var live spec.Service
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			if live, err = tx.GetService(ctx, "p1", orders.ID); err != nil {
				return err
			}
			live.Routes, err = tx.ListRoutes(ctx, orders.ID)
			return err
		})
		v2 := freeze(t, s, live, "2.0.0")
		d2 := deploy(t, s, "default", orders, "2.0.0")
		var rev int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
			return err
		})
		got := snapshot("default")
		if got.Revision != rev || rev <= max(revDefault, revTeam) {
			t.Errorf("revision after redeploy = %d (bumped to %d), want above %d", got.Revision, rev, max(revDefault, revTeam))
		}
		want := []spec.DeployedService{running(v2, d2), running(alphaV1, alphaDefault)}
		if diff := cmp.Diff(want, got.Groups[0].Services); diff != "" {
			t.Errorf("services after redeploy (-want +got):\n%s", diff)
		}
		if n := len(got.Groups[0].Services[0].Service.Routes); n != 3 {
			t.Errorf("redeployed orders has %d routes, want 3", n)
		}
	})
}
