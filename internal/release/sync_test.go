package release_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func (e *env) sync(service string, req release.SyncRequest) (spec.Deployment, error) {
	var d spec.Deployment
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		d, err = release.Sync(ctx, tx, actor, spec.DefaultProject, service, req)
		return err
	})
	return d, err
}

// TestSync: the version running in test runs in default too,
// with the same version string and the target's own nodes.
func TestSync(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "petstore", Upstream: nodes("template")},
		spec.Route{Name: "get_pet", Paths: []string{"/pet/{id}"}, Methods: []string{"GET"}})
	e.mustPublish(svc.Name, release.PublishRequest{Group: "test", Version: "1.0.0", Upstream: nodes("node-a")})
	before := e.state()

	d, err := e.sync(svc.Name, release.SyncRequest{FromGroup: "test", ToGroup: "default", Upstream: nodes("node-b")})
	checkErr(t, err, errNone)
	if d.Group != "default" || d.Version != "1.0.0" || !sameStrings(hostsOf(d.Upstream), []string{"node-b"}) {
		t.Errorf("synced deployment = %+v, want 1.0.0 on node-b in default", d)
	}
	after := e.state()
	if got := after.Versions[svc.ID]; !sameStrings(got, []string{"1.0.0"}) {
		t.Errorf("versions = %v, want only 1.0.0 (a sync makes no version)", got)
	}
	if after.Revisions["default"] <= before.Revisions["default"] || after.Revisions["test"] != before.Revisions["test"] {
		t.Errorf("revisions %v -> %v, want only default bumped", before.Revisions, after.Revisions)
	}
	if deps := after.Deployments["test"]; len(deps) != 1 || !sameStrings(hostsOf(deps[0].Upstream), []string{"node-a"}) {
		t.Errorf("test runs %+v, want 1.0.0 on node-a still", deps)
	}
	h := after.History[svc.ID][0]
	want := spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: svc.ID, Group: "default", Action: "sync",
		Version: "1.0.0", Actor: actor, Revision: after.Revisions["default"], Detail: "synced from gateway group test (version 1.0.0)"}
	h.ID, h.At = 0, want.At
	if h != want {
		t.Errorf("history event = %+v\nwant %+v", h, want)
	}
	a := after.Audit[0]
	var detail struct{ Group, Version, Detail string }
	if a.Action != "release.sync" || json.Unmarshal(a.Detail, &detail) != nil || detail.Group != "default" || !strings.Contains(detail.Detail, "test") {
		t.Errorf("audit event = %+v (%s)", a, a.Detail)
	}
	if v, routes := e.snapshotRoutes("default", svc.ID); v != "1.0.0" || len(routes["get_pet"]) != 1 {
		t.Errorf("default runs %s %v", v, routes)
	}

	// Syncing again with a version string naming the running one is fine;
	// the target keeps its own nodes when none are given.
	d, err = e.sync(svc.Name, release.SyncRequest{FromGroup: "test", ToGroup: "default", Version: "1.0.0"})
	checkErr(t, err, errNone)
	if !sameStrings(hostsOf(d.Upstream), []string{"node-b"}) {
		t.Errorf("resync without upstream runs on %v, want the target's node-b", hostsOf(d.Upstream))
	}
	if h := e.state().History[svc.ID][0]; h.FromVersion != "1.0.0" {
		t.Errorf("resync history from_version = %q, want 1.0.0", h.FromVersion)
	}
}

// TestSyncUpstream checks which upstream a sync without one picks.
func TestSyncUpstream(t *testing.T) {
	cases := []struct {
		name  string
		tmpl  *spec.Upstream // the template's upstream when 1.0.0 is published
		setup func(e *env, s spec.Service)
		want  []string
	}{
		{name: "the version's own upstream", tmpl: nodes("template"), want: []string{"template"}},
		{name: "the source group's when the version has none", want: []string{"node-a"}},
		{
			name: "the target's current upstream",
			tmpl: nodes("template"),
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "0.9.0", Upstream: nodes("prod")})
			},
			want: []string{"prod"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc := e.service(spec.Service{Name: "orders", Upstream: tc.tmpl}, spec.Route{Name: "list", Paths: []string{"/list"}})
			if tc.setup != nil {
				tc.setup(e, svc)
			}
			e.mustPublish(svc.Name, release.PublishRequest{Group: "test", Version: "1.0.0", Upstream: nodes("node-a")})
			d, err := e.sync(svc.Name, release.SyncRequest{FromGroup: "test", ToGroup: "default"})
			checkErr(t, err, errNone)
			if got := hostsOf(d.Upstream); !sameStrings(got, tc.want) || d.Version != "1.0.0" {
				t.Errorf("synced %s on %v, want 1.0.0 on %v", d.Version, got, tc.want)
			}
		})
	}
}

func TestSyncRefused(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(e *env, s spec.Service)
		service string
		req     release.SyncRequest
		kind    errKind
		fields  []string
		detail  string // part of the error text
	}{
		{
			name: "a version that is not the running one", setup: publish2,
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default", Version: "1.0.0"},
			kind: errConflict, detail: "only the running version can be synced",
		},
		{
			name: "a version that does not exist", setup: publish2,
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default", Version: "9.9.9"},
			kind: errConflict, detail: "only the running version can be synced",
		},
		{
			name: "not running in from_group",
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default"},
			kind: errConflict, detail: "runs no version in gateway group",
		},
		{
			name: "running elsewhere only",
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default"},
			kind: errConflict, detail: "runs no version in gateway group",
		},
		{name: "same group", setup: publish2, req: release.SyncRequest{FromGroup: "test", ToGroup: "test"}, kind: errFields, fields: []string{"to_group"}},
		{name: "no groups", req: release.SyncRequest{}, kind: errFields, fields: []string{"from_group", "to_group"}},
		{name: "bad group name", req: release.SyncRequest{FromGroup: "Test", ToGroup: "default"}, kind: errFields, fields: []string{"from_group"}},
		{name: "unknown target group", setup: publish2, req: release.SyncRequest{FromGroup: "test", ToGroup: "prod"}, kind: errFields, fields: []string{"to_group"}},
		{name: "unknown source group", req: release.SyncRequest{FromGroup: "prod", ToGroup: "test"}, kind: errFields, fields: []string{"from_group"}},
		{
			name: "bad upstream", setup: publish2,
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default", Upstream: &spec.Upstream{Nodes: []spec.Node{{Host: "a"}}}},
			kind: errFields, fields: []string{"upstream.nodes[0].port"},
		},
		{name: "unknown service", service: "nope", req: release.SyncRequest{FromGroup: "test", ToGroup: "default"}, kind: errNotFound},
		{
			name: "nodes to discovery",
			setup: func(e *env, s spec.Service) {
				publish2(e, s)
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "0.1.0", Upstream: nodes("prod")})
			},
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default", Upstream: discovery("orders")},
			kind: errConflict, detail: "canary",
		},
		{
			name: "routes another service answers in the target",
			setup: func(e *env, s spec.Service) {
				publish2(e, s)
				other := e.service(spec.Service{Name: "other"}, spec.Route{Name: "mine", Paths: []string{"/list"}, Methods: []string{"GET"}})
				e.mustPublish(other.Name, release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: nodes("x")})
			},
			req:  release.SyncRequest{FromGroup: "test", ToGroup: "default"},
			kind: errConflict, detail: `route "mine" of service "other"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc := e.service(spec.Service{Name: "orders", Upstream: nodes("a")}, spec.Route{Name: "list", Paths: []string{"/list"}})
			if tc.setup != nil {
				tc.setup(e, svc)
			}
			before := e.state()
			name := tc.service
			if name == "" {
				name = svc.Name
			}
			_, err := e.sync(name, tc.req)
			checkErr(t, err, tc.kind, tc.fields...)
			if tc.detail != "" && !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("error %q does not say %q", err, tc.detail)
			}
			e.unchanged(before)
		})
	}
}

// publish2 runs 1.0.0 and then 2.0.0 of the service in group test.
func publish2(e *env, s spec.Service) {
	e.t.Helper()
	e.mustPublish(s.Name, release.PublishRequest{Group: "test", Version: "1.0.0"})
	e.mustPublish(s.Name, release.PublishRequest{Group: "test", Version: "2.0.0"})
}
