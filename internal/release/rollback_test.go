package release_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// twoVersions makes "orders" run 1.1.0 in the default group after 1.0.0,
// each with its own routes; 1.1.0 was published with other nodes.
func twoVersions(t *testing.T) (*env, spec.Service) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "orders", Path: "/orders", Upstream: nodes("a")},
		spec.Route{Name: "list", Paths: []string{"/list"}})
	e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.setRoutes(svc, spec.Route{Name: "all", Paths: []string{"/all"}}, spec.Route{Name: "get", Paths: []string{"/{id}"}})
	e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.1.0", Upstream: nodes("b")})
	return e, svc
}

func TestRollback(t *testing.T) {
	e, svc := twoVersions(t)
	steps := []struct {
		to, from  string
		wantPaths map[string][]string
	}{
		{to: "1.0.0", from: "1.1.0", wantPaths: map[string][]string{"list": {"/list"}}},
		{to: "1.1.0", from: "1.0.0", wantPaths: map[string][]string{"all": {"/all"}, "get": {"/{id}"}}},
		{to: "1.0.0", from: "1.1.0", wantPaths: map[string][]string{"list": {"/list"}}},
	}
	for _, step := range steps {
		t.Run(step.from+" to "+step.to, func(t *testing.T) {
			before := e.state()
			d, err := e.rollback(svc.Name, release.RollbackRequest{Group: "default", Version: step.to})
			checkErr(t, err, errNone)
			if d.Version != step.to || d.Group != "default" || d.ServiceID != svc.ID {
				t.Errorf("deployment = %+v, want %s in default", d, step.to)
			}
			// The upstream the group runs now stays.
			if got := hostsOf(d.Upstream); !sameStrings(got, []string{"b"}) {
				t.Errorf("upstream after rollback = %v, want the running [b]", got)
			}
			if v, paths := e.snapshotRoutes("default", svc.ID); v != step.to || !equalPaths(paths, step.wantPaths) {
				t.Errorf("snapshot runs %s with routes %v, want %s with %v", v, paths, step.to, step.wantPaths)
			}
			after := e.state()
			rev := after.Revisions["default"]
			if rev <= before.Revisions["default"] {
				t.Errorf("revision %d -> %d, want it bumped", before.Revisions["default"], rev)
			}
			if !sameStrings(after.Versions[svc.ID], before.Versions[svc.ID]) {
				t.Errorf("versions %v -> %v; a rollback creates none", before.Versions[svc.ID], after.Versions[svc.ID])
			}
			hist := after.History[svc.ID]
			if len(hist) != len(before.History[svc.ID])+1 {
				t.Fatalf("history has %d events, want %d", len(hist), len(before.History[svc.ID])+1)
			}
			want := spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: svc.ID, Group: "default",
				Action: "rollback", Version: step.to, FromVersion: step.from, Actor: actor, Revision: rev}
			got := hist[0]
			got.ID, got.At = 0, want.At
			if got != want {
				t.Errorf("history event = %+v\nwant %+v", got, want)
			}
			if len(after.Audit) != len(before.Audit)+1 || after.Audit[0].Action != "release.rollback" || after.Audit[0].Actor != actor {
				t.Errorf("audit after rollback: %d -> %d events, newest %+v", len(before.Audit), len(after.Audit), after.Audit[0])
			}
		})
	}
}

func TestRollbackRefused(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(e *env)
		service string // default "orders"
		req     release.RollbackRequest
		kind    errKind
		fields  []string
	}{
		{name: "the running version", req: release.RollbackRequest{Group: "default", Version: "1.1.0"}, kind: errConflict},
		{name: "unknown version", req: release.RollbackRequest{Group: "default", Version: "0.9.0"}, kind: errNotFound},
		{
			name: "a version of another service",
			setup: func(e *env) {
				other := e.service(spec.Service{Name: "billing", Path: "/billing", Upstream: nodes("c")}, spec.Route{Name: "pay"})
				e.mustPublish(other.Name, release.PublishRequest{Group: "test", Version: "3.0.0"})
			},
			req:  release.RollbackRequest{Group: "default", Version: "3.0.0"},
			kind: errNotFound,
		},
		{name: "not running in the group", req: release.RollbackRequest{Group: "test", Version: "1.0.0"}, kind: errConflict},
		{name: "unknown group", req: release.RollbackRequest{Group: "nowhere", Version: "1.0.0"}, kind: errFields, fields: []string{"group"}},
		{name: "unknown service", service: "nope", req: release.RollbackRequest{Group: "default", Version: "1.0.0"}, kind: errNotFound},
		{name: "no group", req: release.RollbackRequest{Version: "1.0.0"}, kind: errFields, fields: []string{"group"}},
		{name: "no version", req: release.RollbackRequest{Group: "default"}, kind: errFields, fields: []string{"version"}},
		{name: "neither", kind: errFields, fields: []string{"group", "version"}},
		{
			name: "the old routes now clash with another service",
			setup: func(e *env) {
				// billing takes /orders/list, free since 1.1.0 runs.
				other := e.service(spec.Service{Name: "billing", Path: "/orders", Upstream: nodes("c")},
					spec.Route{Name: "pay", Paths: []string{"/list"}})
				e.mustPublish(other.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req:  release.RollbackRequest{Group: "default", Version: "1.0.0"},
			kind: errConflict, // a collision with another service's route
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, svc := twoVersions(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			name := tc.service
			if name == "" {
				name = svc.Name
			}
			before := e.state()
			_, err := e.rollback(name, tc.req)
			checkErr(t, err, tc.kind, tc.fields...)
			e.unchanged(before)
		})
	}
}

// TestCommit checks that every commit gives the group a new, higher
// revision, recorded in the history event and the audit detail.
func TestCommit(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "orders"})
	groups := []string{"default", "test", "default", "default", "test"}
	var last int64
	for i, g := range groups {
		before := e.state()
		var rev int64
		e.tx(func(ctx context.Context, tx store.Tx) error {
			var err error
			rev, err = release.Commit(ctx, tx, spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: svc.ID,
				Group: g, Action: "publish", Version: "1.0.0", Actor: actor})
			return err
		})
		if rev <= last || rev <= before.Revisions["default"] || rev <= before.Revisions["test"] {
			t.Fatalf("commit %d to %s: revision %d, want above %d and every group's revision %v", i, g, rev, last, before.Revisions)
		}
		last = rev
		after := e.state()
		for name, r := range after.Revisions {
			want := before.Revisions[name]
			if name == g {
				want = rev
			}
			if r != want {
				t.Errorf("commit %d to %s: group %s revision %d, want %d", i, g, name, r, want)
			}
		}
		if h := after.History[svc.ID]; len(h) != i+1 || h[0].Revision != rev || h[0].Group != g {
			t.Errorf("commit %d: newest history event %+v, want revision %d in %s", i, h[0], rev, g)
		}
		var detail struct{ Revision int64 }
		if len(after.Audit) != i+1 || json.Unmarshal(after.Audit[0].Detail, &detail) != nil || detail.Revision != rev {
			t.Errorf("commit %d: newest audit event %+v, want revision %d", i, after.Audit[0], rev)
		}
	}
}

// TestCommitRefusesInvalidSnapshot writes a broken deployment directly and
// checks Commit refuses it before bumping or recording anything.
func TestCommitRefusesInvalidSnapshot(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "orders"})
	before := e.state()
	ctx := t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		frozen := svc
		frozen.Routes = []spec.Route{{Name: "list", Plugins: spec.Plugins{"no-such-plugin": json.RawMessage(`{}`)}}}
		v := spec.Version{ProjectID: spec.DefaultProject, ServiceID: svc.ID, Version: "1.0.0", Service: frozen}
		if err := tx.CreateVersion(ctx, &v); err != nil {
			t.Fatalf("CreateVersion: %v", err)
		}
		d := spec.Deployment{Group: "default", ProjectID: spec.DefaultProject, ServiceID: svc.ID, Version: "1.0.0", Upstream: *nodes("a")}
		if err := tx.PutDeployment(ctx, &d); err != nil {
			t.Fatalf("PutDeployment: %v", err)
		}
		g0, _ := tx.GetGroup(ctx, "default")
		_, err := release.Commit(ctx, tx, spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: svc.ID,
			Group: "default", Action: "publish", Version: "1.0.0", Actor: actor})
		if g1, _ := tx.GetGroup(ctx, "default"); g1.Revision != g0.Revision {
			t.Errorf("refused commit bumped the revision inside the transaction: %d -> %d", g0.Revision, g1.Revision)
		}
		if h, n, _ := tx.ListHistory(ctx, svc.ID, store.ListQuery{}); n != 0 {
			t.Errorf("refused commit recorded history: %+v", h)
		}
		return err
	})
	checkErr(t, err, errFields, "services[orders].routes[list].plugins.no-such-plugin")
	e.unchanged(before)
}
