package release_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

const actor = "alice"

// env is a fresh SQLite store set up as controlplane.bootstrap leaves it:
// the default project, the default group and, for these tests, a second
// group "test" with a path prefix; every group has a first revision.
type env struct {
	t  *testing.T
	st store.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.OpenSQLite(t.Context(), storetest.SQLiteDir(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	e := &env{t: t, st: st}
	e.tx(func(ctx context.Context, tx store.Tx) error {
		for _, g := range []spec.GatewayGroup{
			{Name: spec.DefaultGroup},
			{Name: "test", PathPrefix: "/api/gateway/test/{project}"},
		} {
			if err := tx.CreateGroup(ctx, &g); err != nil {
				return err
			}
			if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: g.Name}); err != nil {
				return err
			}
		}
		return tx.CreateProject(ctx, &spec.Project{ID: spec.DefaultProject, Name: "Default",
			TestGroup: spec.DefaultGroup, ProductionGroup: spec.DefaultGroup})
	})
	return e
}

// tx runs fn in a transaction that must succeed.
func (e *env) tx(fn func(ctx context.Context, tx store.Tx) error) {
	e.t.Helper()
	ctx := e.t.Context()
	if err := e.st.Tx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		e.t.Fatalf("transaction: %v", err)
	}
}

// service creates a service of the default project with its routes.
func (e *env) service(s spec.Service, routes ...spec.Route) spec.Service {
	e.t.Helper()
	s.ProjectID = spec.DefaultProject
	e.tx(func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateService(ctx, &s); err != nil {
			return err
		}
		for _, r := range routes {
			r.ServiceID = s.ID
			if err := tx.CreateRoute(ctx, &r); err != nil {
				return err
			}
		}
		return nil
	})
	return s
}

// setRoutes replaces the template's routes.
func (e *env) setRoutes(svc spec.Service, routes ...spec.Route) {
	e.t.Helper()
	e.tx(func(ctx context.Context, tx store.Tx) error {
		old, err := tx.ListRoutes(ctx, svc.ID)
		if err != nil {
			return err
		}
		for _, r := range old {
			if err := tx.DeleteRoute(ctx, svc.ID, r.ID); err != nil {
				return err
			}
		}
		for _, r := range routes {
			r.ServiceID = svc.ID
			if err := tx.CreateRoute(ctx, &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// publish runs release.Publish in its own transaction, committed when it
// succeeds and rolled back otherwise, as the admin API does.
func (e *env) publish(service string, req release.PublishRequest) (spec.Deployment, error) {
	var d spec.Deployment
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		d, err = release.Publish(ctx, tx, actor, spec.DefaultProject, service, req)
		return err
	})
	return d, err
}

func (e *env) mustPublish(service string, req release.PublishRequest) spec.Deployment {
	e.t.Helper()
	d, err := e.publish(service, req)
	if err != nil {
		e.t.Fatalf("publish %s %+v: %v", service, req, err)
	}
	return d
}

func (e *env) rollback(service string, req release.RollbackRequest) (spec.Deployment, error) {
	var d spec.Deployment
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		d, err = release.Rollback(ctx, tx, actor, spec.DefaultProject, service, req)
		return err
	})
	return d, err
}

// state is everything a release action may change.
type state struct {
	Revisions   map[string]int64
	Deployments map[string][]spec.Deployment // by group
	Versions    map[string][]string          // by service id
	History     map[string][]spec.HistoryEvent
	Audit       []spec.AuditEvent
}

func (e *env) state() state {
	e.t.Helper()
	s := state{Revisions: map[string]int64{}, Deployments: map[string][]spec.Deployment{},
		Versions: map[string][]string{}, History: map[string][]spec.HistoryEvent{}}
	e.tx(func(ctx context.Context, tx store.Tx) error {
		groups, _, err := tx.ListGroups(ctx, store.ListQuery{PageSize: 500})
		if err != nil {
			return err
		}
		for _, g := range groups {
			s.Revisions[g.Name] = g.Revision
			if s.Deployments[g.Name], err = tx.ListDeploymentsByGroup(ctx, g.Name); err != nil {
				return err
			}
		}
		svcs, _, err := tx.ListServices(ctx, spec.DefaultProject, store.ListQuery{PageSize: 500})
		if err != nil {
			return err
		}
		for _, svc := range svcs {
			vs, err := tx.ListVersions(ctx, svc.ID)
			if err != nil {
				return err
			}
			for _, v := range vs {
				s.Versions[svc.ID] = append(s.Versions[svc.ID], v.Version)
			}
			if s.History[svc.ID], _, err = tx.ListHistory(ctx, svc.ID, store.ListQuery{PageSize: 500}); err != nil {
				return err
			}
		}
		s.Audit, _, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{PageSize: 500})
		return err
	})
	return s
}

// unchanged fails the test when a refused action left anything behind.
func (e *env) unchanged(before state) {
	e.t.Helper()
	after := e.state()
	if !reflect.DeepEqual(before, after) {
		e.t.Errorf("a refused action changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
}

// snapshotRoutes returns the paths of the routes of svc running in group,
// as the gateway would get them, and the version that runs.
func (e *env) snapshotRoutes(group, serviceID string) (version string, routes map[string][]string) {
	e.t.Helper()
	e.tx(func(ctx context.Context, tx store.Tx) error {
		snap, err := tx.Snapshot(ctx, []string{group})
		if err != nil {
			return err
		}
		for _, gs := range snap.Groups {
			for _, ds := range gs.Services {
				if ds.Service.ID != serviceID {
					continue
				}
				version, routes = ds.Version, map[string][]string{}
				for _, r := range ds.Service.Routes {
					routes[r.Name] = r.Paths
				}
			}
		}
		return nil
	})
	return version, routes
}

// errKind names what a test expects of an error.
type errKind int

const (
	errNone errKind = iota
	errConflict
	errNotFound
	errFields // spec.FieldErrors
)

// checkErr checks err's kind and, for errFields, that exactly the given
// fields are named (a field ending in "*" matches by prefix).
func checkErr(t *testing.T, err error, kind errKind, fields ...string) {
	t.Helper()
	var fe spec.FieldErrors
	switch kind {
	case errNone:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case errConflict:
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("error = %v, want store.ErrConflict", err)
		}
	case errNotFound:
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("error = %v, want store.ErrNotFound", err)
		}
	case errFields:
		if !errors.As(err, &fe) {
			t.Fatalf("error = %v (%T), want spec.FieldErrors", err, err)
		}
		var got []string
		for _, f := range fe {
			got = append(got, f.Field)
		}
		if len(got) != len(fields) {
			t.Fatalf("fields = %q, want %q", got, fields)
		}
		for i, want := range fields {
			if p, ok := cutStar(want); ok {
				if len(got[i]) < len(p) || got[i][:len(p)] != p {
					t.Errorf("field[%d] = %q, want prefix %q", i, got[i], p)
				}
			} else if got[i] != want {
				t.Errorf("field[%d] = %q, want %q", i, got[i], want)
			}
		}
	}
	if kind != errFields && errors.As(err, &fe) {
		t.Errorf("error %v is a spec.FieldErrors, want a store sentinel", err)
	}
}

func cutStar(s string) (string, bool) {
	if n := len(s); n > 0 && s[n-1] == '*' {
		return s[:n-1], true
	}
	return s, false
}

func nodes(hosts ...string) *spec.Upstream {
	u := &spec.Upstream{}
	for _, h := range hosts {
		u.Nodes = append(u.Nodes, spec.Node{Host: h, Port: 8080, Weight: 100})
	}
	return u
}

func discovery(name string) *spec.Upstream {
	return &spec.Upstream{Discovery: &spec.Discovery{Registry: "dns", ServiceName: name}}
}

func isDiscovered(u *spec.Upstream) bool { return u != nil && u.Discovery != nil }

// dnsRegistry gives group the registry connection discovery's upstreams
// name, without which the gateway's compiler refuses them.
func (e *env) dnsRegistry(group string) {
	e.t.Helper()
	e.tx(func(ctx context.Context, tx store.Tx) error {
		return tx.CreateRegistry(ctx, &spec.Registry{Group: group, Name: "dns", Type: "dns"})
	})
}

func hostsOf(u spec.Upstream) []string {
	var out []string
	for _, n := range u.Nodes {
		out = append(out, n.Host)
	}
	return out
}

func sameStrings(a, b []string) bool { return slices.Equal(a, b) }
