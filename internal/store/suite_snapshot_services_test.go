package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// snapshotOf is Snapshot of one group, read in a View.
func snapshotOf(t testing.TB, s store.Store, group string) spec.GroupSnapshot {
	t.Helper()
	ctx := t.Context()
	var snap spec.Snapshot
	if err := s.View(ctx, func(tx store.Tx) error {
		var err error
		snap, err = tx.Snapshot(ctx, []string{group})
		return err
	}); err != nil {
		t.Fatalf("Snapshot(%s): %v", group, err)
	}
	if len(snap.Groups) != 1 {
		t.Fatalf("Snapshot(%s) has %d groups", group, len(snap.Groups))
	}
	return snap.Groups[0]
}

// snapshotServices is SnapshotServices, read in a View.
func snapshotServices(t testing.TB, s store.Store, group string, ids []string) spec.GroupSnapshot {
	t.Helper()
	ctx := t.Context()
	var gs spec.GroupSnapshot
	if err := s.View(ctx, func(tx store.Tx) error {
		var err error
		gs, err = tx.SnapshotServices(ctx, group, ids)
		return err
	}); err != nil {
		t.Fatalf("SnapshotServices(%s, %d ids): %v", group, len(ids), err)
	}
	return gs
}

// partOf is what SnapshotServices(ids) must answer, cut from the whole
// snapshot: the services among ids in the same order, the data sources
// their routes use (by id: the partial order of first use may differ),
// every consumer.
func partOf(full spec.GroupSnapshot, ids []string) spec.GroupSnapshot {
	want := spec.GroupSnapshot{Group: full.Group, Services: []spec.DeployedService{}, Consumers: full.Consumers}
	used := map[string]bool{}
	for _, ds := range full.Services {
		if !slices.Contains(ids, ds.Service.ID) {
			continue
		}
		want.Services = append(want.Services, ds)
		for _, r := range ds.Service.Routes {
			if r.Backend != nil && r.Backend.SQLBackend != nil {
				used[r.Backend.DataSource] = true
			}
		}
	}
	for _, d := range full.DataSources {
		if used[d.ID] {
			want.DataSources = append(want.DataSources, d)
		}
	}
	return want
}

// samePart fails unless got is partOf(full, ids).
func samePart(t *testing.T, full, got spec.GroupSnapshot, ids []string) {
	t.Helper()
	want := partOf(full, ids)
	byID := func(a, b spec.DataSource) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(want.DataSources, byID)
	slices.SortFunc(got.DataSources, byID)
	for _, c := range []struct {
		what      string
		want, got any
	}{
		{"group", want.Group, got.Group},
		{"services", want.Services, got.Services},
		{"consumers", want.Consumers, got.Consumers},
		{"data sources", want.DataSources, got.DataSources},
	} {
		if !reflect.DeepEqual(c.want, c.got) {
			t.Errorf("SnapshotServices(%d ids): %s differ from Snapshot's (-want +got):\n%s", len(ids), c.what, cmp.Diff(c.want, c.got))
		}
	}
}

func testSnapshotServices(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	var shop spec.Folder
	testDB := spec.DataSource{ProjectID: "p1", Name: "orders-db", Type: "postgres", Host: "h", Database: "d", User: "u", Sealed: "sealed-1"}
	prodDB := spec.DataSource{ProjectID: "p1", Name: "prod-db", Type: "postgres", Host: "h", Database: "d", User: "u", Sealed: "sealed-2"}
	p2DB := spec.DataSource{ProjectID: "p2", Name: "p2db", Type: "mysql", Host: "h", Database: "d", User: "u"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		shop = spec.Folder{ProjectID: "p1", Name: "shop", Path: "/shop"}
		if err := tx.CreateFolder(ctx, &shop); err != nil {
			return err
		}
		for _, d := range []*spec.DataSource{&testDB, &prodDB, &p2DB} {
			if err := tx.CreateDataSource(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	sqlRoute := func(name, source string) spec.Route {
		return spec.Route{Name: name, Paths: []string{"/" + name}, Methods: []string{"GET"},
			Backend: &spec.Backend{Type: "sql", SQLBackend: &spec.SQLBackend{DataSource: source, Table: "t"}}}
	}
	plainRoute := func(name string) spec.Route {
		return spec.Route{Name: name, Paths: []string{"/" + name}, Methods: []string{"GET"}}
	}
	service := func(project, name, folder string, routes ...spec.Route) spec.Service {
		t.Helper()
		svc := spec.Service{ProjectID: project, Name: name, Path: "/" + name, FolderID: folder, State: spec.StateDraft}
		if folder != "" {
			svc.Path = spec.DefaultPath
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateService(ctx, &svc); err != nil {
				return err
			}
			for _, r := range routes {
				r.ServiceID = svc.ID
				if err := tx.CreateRoute(ctx, &r); err != nil {
					return err
				}
				svc.Routes = append(svc.Routes, r)
			}
			return nil
		})
		freeze(t, s, svc, "1.0.0")
		return svc
	}
	orders := service("p1", "orders", shop.ID, plainRoute("list"), plainRoute("get"))
	billing := service("p1", "billing", "", sqlRoute("pay", "orders-db"))
	reports := service("p1", "reports", "", sqlRoute("daily", testDB.ID), plainRoute("health"))
	alpha := service("p2", "alpha", "", plainRoute("x"))
	beta := service("p2", "beta", "", sqlRoute("rows", "p2db"), sqlRoute("gone", "missing-db"))
	gamma := service("p2", "gamma", "", plainRoute("y"))
	delta := service("p1", "delta", "", plainRoute("z"))
	for _, svc := range []spec.Service{orders, billing, reports, alpha, beta} {
		deploy(t, s, "default", svc, "1.0.0")
	}
	deploy(t, s, "team", gamma, "1.0.0")
	deploy(t, s, "team", billing, "1.0.0")

	canary := func(svc spec.Service, group, state string) spec.Canary {
		return spec.Canary{ProjectID: svc.ProjectID, ServiceID: svc.ID, Group: group, Name: "c", State: state,
			Target: spec.CanaryTarget{Version: "1.0.0"}, Weight: 10, Routes: []string{svc.Routes[0].Name},
			TargetUpstream: spec.Upstream{Name: "target", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9001, Weight: 1}}}}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range []spec.Canary{
			canary(orders, "default", spec.CanaryRunning),
			canary(billing, "team", spec.CanaryRunning),
			canary(billing, "default", spec.CanaryCancelled),
			canary(beta, "default", spec.CanaryRunning),
		} {
			if err := tx.CreateCanary(ctx, &c); err != nil {
				return err
			}
		}
		return tx.PutDataSourceMap(ctx, "default", reports.ID, map[string]string{testDB.ID: prodDB.ID})
	})

	// Consumers: p1's and p2's own (admitted by project), one subscribed
	// to alpha (admitted), one pending on beta and one subscribed to a
	// service of team only (neither admitted), one without a credential.
	app := func(name, project string) spec.Application {
		return spec.Application{Name: name, ProjectID: project, Owner: "u-" + name}
	}
	apps := []spec.Application{app("p1-app", "p1"), app("p2-app", "p2"), app("subscriber", ""), app("pending", ""),
		app("team-only", ""), app("bare", "p2")}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range apps {
			if err := tx.CreateApplication(ctx, &apps[i]); err != nil {
				return err
			}
			if apps[i].Name == "bare" {
				continue
			}
			c := spec.Credential{ApplicationID: apps[i].ID, Type: spec.CredKeyAuth}
			if err := tx.CreateCredential(ctx, &c, store.CredentialSecret{Lookup: "key-" + apps[i].Name}); err != nil {
				return err
			}
		}
		old := spec.Credential{ApplicationID: apps[1].ID, Type: spec.CredHMACAuth}
		if err := tx.CreateCredential(ctx, &old, store.CredentialSecret{Lookup: "ak-old", Sealed: "v1.x"}); err != nil {
			return err
		}
		if err := tx.SetCredentialExpiry(ctx, apps[1].ID, old.ID, time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		for _, sub := range []spec.Subscription{
			{ApplicationID: apps[2].ID, ServiceID: alpha.ID, ProjectID: "p2", State: spec.SubscriptionApproved},
			{ApplicationID: apps[3].ID, ServiceID: beta.ID, ProjectID: "p2", State: spec.SubscriptionPending},
			{ApplicationID: apps[4].ID, ServiceID: gamma.ID, ProjectID: "p2", State: spec.SubscriptionApproved},
		} {
			if err := tx.CreateSubscription(ctx, &sub); err != nil {
				return err
			}
		}
		return nil
	})

	full := snapshotOf(t, s, "default")
	t.Run("the whole snapshot has what the parts are checked on", func(t *testing.T) {
		var names []string
		for _, ds := range full.Services {
			names = append(names, ds.Service.Name)
		}
		if want := []string{"billing", "orders", "reports", "alpha", "beta"}; !slices.Equal(names, want) {
			t.Fatalf("services %v, want %v", names, want)
		}
		if full.Services[1].Canary == nil || full.Services[4].Canary == nil || full.Services[0].Canary != nil {
			t.Errorf("canaries not attached as running in default: %+v", full.Services)
		}
		if full.Services[1].Service.FolderPath != "/shop" {
			t.Errorf("orders' folder path %q, want /shop", full.Services[1].Service.FolderPath)
		}
		if got := full.Services[2].Service.Routes[0].Backend.DataSource; got != prodDB.ID {
			t.Errorf("reports' route uses %s, want prod-db %s through the map", got, prodDB.ID)
		}
		var consumers []string
		for _, c := range full.Consumers {
			consumers = append(consumers, c.Name)
		}
		if want := []string{"p1-app", "p2-app", "subscriber"}; !slices.Equal(consumers, want) {
			t.Errorf("consumers %v, want %v", consumers, want)
		}
		if len(full.Consumers[1].Credentials) != 1 || !slices.Equal(full.Consumers[2].Subscriptions, []string{alpha.ID}) {
			t.Errorf("consumers' credentials or subscriptions: %+v", full.Consumers)
		}
		if len(full.DataSources) != 3 {
			t.Errorf("data sources %+v, want orders-db, prod-db and p2db", full.DataSources)
		}
	})

	all := []string{orders.ID, billing.ID, reports.ID, alpha.ID, beta.ID}
	for _, c := range []struct {
		name string
		ids  []string
	}{
		{"none", nil},
		{"one with a canary in a folder", []string{orders.ID}},
		{"sql routes, one through a map", []string{reports.ID, billing.ID}},
		{"one of each project, given twice, and ids not deployed", []string{beta.ID, "nope", orders.ID, gamma.ID, beta.ID, delta.ID}},
		{"a subscribed one", []string{alpha.ID}},
		{"all", all},
	} {
		t.Run(c.name, func(t *testing.T) {
			samePart(t, full, snapshotServices(t, s, "default", c.ids), c.ids)
		})
	}

	t.Run("all is the whole snapshot", func(t *testing.T) {
		if got := snapshotServices(t, s, "default", all); !reflect.DeepEqual(full, got) {
			t.Errorf("SnapshotServices of every service differs from Snapshot (-want +got):\n%s", cmp.Diff(full, got))
		}
	})

	t.Run("another group", func(t *testing.T) {
		team := snapshotOf(t, s, "team")
		ids := []string{billing.ID, orders.ID}
		got := snapshotServices(t, s, "team", ids)
		samePart(t, team, got, ids)
		if len(got.Services) != 1 || got.Services[0].Canary == nil {
			t.Errorf("billing in team: %+v, want it with its running canary", got.Services)
		}
		if len(got.Consumers) != 3 {
			t.Errorf("team's consumers %+v, want p1-app, p2-app and team-only", got.Consumers)
		}
	})

	t.Run("missing group", func(t *testing.T) {
		err := s.View(ctx, func(tx store.Tx) error {
			_, err := tx.SnapshotServices(ctx, "nope", []string{orders.ID})
			return err
		})
		wantErr(t, "SnapshotServices of a missing group", err, store.ErrNotFound)
	})
}

// testSnapshotLargeGroup: a group of 40 000 services still snapshots (its
// consumers are found without binding every service id), and a partial
// snapshot of ids spread over it is the matching part.
func testSnapshotLargeGroup(t *testing.T, s store.Store) {
	if testing.Short() {
		t.Skip("40 000 services take a while; skipped under -short")
	}
	seed(t, s)
	const n = 40000
	ids, err := store.BulkDeploy(t.Context(), s, "default", "p1", "one", n/2, 1)
	wantErr(t, "deploy p1's services", err, nil)
	more, err := store.BulkDeploy(t.Context(), s, "default", "p2", "two", n/2, 1)
	wantErr(t, "deploy p2's services", err, nil)
	ids = append(ids, more...)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		own := spec.Application{Name: "own", ProjectID: "p1", Owner: "u-own"}
		sub := spec.Application{Name: "sub", Owner: "u-sub"}
		for _, a := range []*spec.Application{&own, &sub} {
			if err := tx.CreateApplication(ctx, a); err != nil {
				return err
			}
			c := spec.Credential{ApplicationID: a.ID, Type: spec.CredKeyAuth}
			if err := tx.CreateCredential(ctx, &c, store.CredentialSecret{Lookup: "key-" + a.Name}); err != nil {
				return err
			}
		}
		return tx.CreateSubscription(ctx, &spec.Subscription{ApplicationID: sub.ID, ServiceID: ids[n-1], ProjectID: "p2",
			State: spec.SubscriptionApproved})
	})

	full := snapshotOf(t, s, "default")
	if len(full.Services) != n || len(full.Consumers) != 2 {
		t.Fatalf("Snapshot of %d services: %d services, %d consumers (want 2)", n, len(full.Services), len(full.Consumers))
	}
	// Ids spread over both projects, more than one statement binds, in
	// an order unlike the snapshot's.
	var some []string
	for i := n - 1; i >= 0; i -= 29 {
		some = append(some, ids[i])
	}
	samePart(t, full, snapshotServices(t, s, "default", some), some)
	samePart(t, full, snapshotServices(t, s, "default", ids[:1]), ids[:1])
}
