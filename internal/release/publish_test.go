package release_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func TestPublishRecordsVersionDeploymentHistoryAndAudit(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "orders", Path: "/orders", Upstream: nodes("10.0.0.1")},
		spec.Route{Name: "list", Paths: []string{"/list"}, Methods: []string{"GET"}})

	steps := []struct {
		version, from string
		routes        []spec.Route // the template before the publish
		wantPaths     map[string][]string
	}{
		{version: "1.0.0", wantPaths: map[string][]string{"list": {"/list"}}},
		{
			version: "1.1.0", from: "1.0.0",
			routes:    []spec.Route{{Name: "list", Paths: []string{"/all"}}, {Name: "get", Paths: []string{"/{id}"}}},
			wantPaths: map[string][]string{"list": {"/all"}, "get": {"/{id}"}},
		},
	}
	prevRev := e.state().Revisions["default"]
	for _, step := range steps {
		t.Run(step.version, func(t *testing.T) {
			if step.routes != nil {
				e.setRoutes(svc, step.routes...)
			}
			before := e.state()
			d := e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: step.version})
			if d.Group != "default" || d.Version != step.version || d.ServiceID != svc.ID || d.ProjectID != spec.DefaultProject {
				t.Errorf("deployment = %+v", d)
			}
			if got := hostsOf(d.Upstream); !sameStrings(got, []string{"10.0.0.1"}) {
				t.Errorf("deployment upstream nodes = %v, want the template's", got)
			}
			after := e.state()

			rev := after.Revisions["default"]
			if rev <= prevRev {
				t.Errorf("group revision %d -> %d, want it bumped", prevRev, rev)
			}
			prevRev = rev
			if after.Revisions["test"] != before.Revisions["test"] {
				t.Errorf("revision of the untouched group changed: %d -> %d", before.Revisions["test"], after.Revisions["test"])
			}
			if got := after.Versions[svc.ID]; len(got) != len(before.Versions[svc.ID])+1 || got[0] != step.version {
				t.Errorf("versions = %v, want %s added", got, step.version)
			}

			hist := after.History[svc.ID]
			if len(hist) != len(before.History[svc.ID])+1 {
				t.Fatalf("history has %d events, want %d", len(hist), len(before.History[svc.ID])+1)
			}
			want := spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: svc.ID, Group: "default",
				Action: "publish", Version: step.version, FromVersion: step.from, Actor: actor, Revision: rev}
			got := hist[0]
			got.ID, got.At = 0, want.At
			if got != want {
				t.Errorf("history event = %+v\nwant %+v", got, want)
			}

			if len(after.Audit) != len(before.Audit)+1 {
				t.Fatalf("audit has %d events, want %d", len(after.Audit), len(before.Audit)+1)
			}
			a := after.Audit[0]
			if a.Actor != actor || a.Action != "release.publish" || a.Resource != "/projects/default/services/"+svc.ID {
				t.Errorf("audit event = %+v", a)
			}
			var detail struct {
				Group, Version string
				FromVersion    string `json:"from_version"`
				Revision       int64
			}
			if err := json.Unmarshal(a.Detail, &detail); err != nil {
				t.Fatalf("audit detail %s: %v", a.Detail, err)
			}
			if detail.Group != "default" || detail.Version != step.version || detail.FromVersion != step.from || detail.Revision != rev {
				t.Errorf("audit detail = %s", a.Detail)
			}

			if v, paths := e.snapshotRoutes("default", svc.ID); v != step.version || !equalPaths(paths, step.wantPaths) {
				t.Errorf("snapshot runs %s with routes %v, want %s with %v", v, paths, step.version, step.wantPaths)
			}
		})
	}

	// Versions are immutable: 1.0.0 still holds the routes it was published with.
	e.tx(func(ctx context.Context, tx store.Tx) error {
		v, err := tx.GetVersion(ctx, svc.ID, "1.0.0")
		if err != nil {
			return err
		}
		if len(v.Service.Routes) != 1 || v.Service.Routes[0].Name != "list" || !sameStrings(v.Service.Routes[0].Paths, []string{"/list"}) {
			t.Errorf("version 1.0.0 routes = %+v, want the one route it was published with", v.Service.Routes)
		}
		if v.CreatedBy != actor {
			t.Errorf("version created by %q, want %q", v.CreatedBy, actor)
		}
		return nil
	})
}

// badGroup stores a group whose name is not a valid slug (the store does
// not check names), so only Publish's own check can refuse it.
func badGroup(e *env, _ spec.Service) {
	e.tx(func(ctx context.Context, tx store.Tx) error {
		return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "Prod Group"})
	})
}

func equalPaths(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !sameStrings(v, b[k]) {
			return false
		}
	}
	return true
}

// TestPublishRefused checks every refusal and that a refused publish leaves
// the store exactly as it was.
func TestPublishRefused(t *testing.T) {
	route := spec.Route{Name: "list", Paths: []string{"/list"}}
	cases := []struct {
		name    string
		tmpl    *spec.Upstream               // template upstream of "orders"
		setup   func(e *env, s spec.Service) // before the refused publish
		service string                       // default "orders"
		req     release.PublishRequest
		kind    errKind
		fields  []string
	}{
		{
			name: "existing version",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req:  release.PublishRequest{Group: "test", Version: "1.0.0"},
			kind: errConflict,
		},
		{
			name: "existing version wins over a missing upstream",
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: nodes("a")})
			},
			req:  release.PublishRequest{Group: "test", Version: "1.0.0"},
			kind: errConflict,
		},
		{name: "no group", tmpl: nodes("a"), req: release.PublishRequest{Version: "1.0.0"}, kind: errFields, fields: []string{"group"}},
		{name: "bad group name", tmpl: nodes("a"), setup: badGroup, req: release.PublishRequest{Group: "Prod Group", Version: "1.0.0"}, kind: errFields, fields: []string{"group"}},
		{name: "no version", tmpl: nodes("a"), req: release.PublishRequest{Group: "default"}, kind: errFields, fields: []string{"version"}},
		{name: "bad version", tmpl: nodes("a"), req: release.PublishRequest{Group: "default", Version: "-1.0"}, kind: errFields, fields: []string{"version"}},
		{name: "version too long", tmpl: nodes("a"), req: release.PublishRequest{Group: "default", Version: strings.Repeat("1", 65)}, kind: errFields, fields: []string{"version"}},
		{name: "version with a slash", tmpl: nodes("a"), req: release.PublishRequest{Group: "default", Version: "1/0"}, kind: errFields, fields: []string{"version"}},
		{name: "neither", tmpl: nodes("a"), req: release.PublishRequest{}, kind: errFields, fields: []string{"group", "version"}},
		{
			name: "bad upstream in the request", tmpl: nodes("a"),
			req:  release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: &spec.Upstream{Nodes: []spec.Node{{Host: "a", Port: 0}}}},
			kind: errFields, fields: []string{"upstream.nodes[0].port"},
		},
		{name: "unknown service", tmpl: nodes("a"), service: "nope", req: release.PublishRequest{Group: "default", Version: "1.0.0"}, kind: errNotFound},
		// release.requireGroup answers an unknown group as a field error on "group".
		{name: "unknown group", tmpl: nodes("a"), req: release.PublishRequest{Group: "nowhere", Version: "1.0.0"}, kind: errFields, fields: []string{"group"}},
		{name: "no upstream anywhere", req: release.PublishRequest{Group: "default", Version: "1.0.0"}, kind: errFields, fields: []string{"upstream*"}},
		{
			name: "no upstream in this group, though it runs elsewhere",
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "test", Version: "1.0.0", Upstream: nodes("a")})
			},
			req:  release.PublishRequest{Group: "default", Version: "1.1.0"},
			kind: errFields, fields: []string{"upstream*"},
		},
		{
			name: "nodes to discovery",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				e.dnsRegistry("default")
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req:  release.PublishRequest{Group: "default", Version: "1.1.0", Upstream: discovery("orders")},
			kind: errConflict,
		},
		{
			name: "discovery to nodes",
			tmpl: discovery("orders"),
			setup: func(e *env, s spec.Service) {
				e.dnsRegistry("default")
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req:  release.PublishRequest{Group: "default", Version: "1.1.0", Upstream: nodes("a")},
			kind: errConflict,
		},
		{
			name: "discovery to nodes through the template",
			setup: func(e *env, s spec.Service) {
				e.dnsRegistry("default")
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: discovery("orders")})
				s.Upstream = nodes("a")
				e.tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateService(ctx, &s) })
			},
			req:  release.PublishRequest{Group: "default", Version: "1.1.0"},
			kind: errConflict,
		},
		{
			name: "unknown plugin on a route",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				e.setRoutes(s, spec.Route{Name: "list", Plugins: spec.Plugins{"no-such-plugin": json.RawMessage(`{}`)}})
			},
			req:  release.PublishRequest{Group: "default", Version: "1.0.0"},
			kind: errFields, fields: []string{"services[orders].routes[list].plugins.no-such-plugin"},
		},
		{
			name: "unknown plugin on the service",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				s.Plugins = spec.Plugins{"no-such-plugin": json.RawMessage(`{}`)}
				e.tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateService(ctx, &s) })
			},
			req:  release.PublishRequest{Group: "default", Version: "1.0.0"},
			kind: errFields, fields: []string{"services[orders].plugins.no-such-plugin"},
		},
		{
			name: "route path another service serves in the group",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				other := e.service(spec.Service{Name: "billing", Path: "/orders", Upstream: nodes("b")}, route)
				e.mustPublish(other.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			},
			req: release.PublishRequest{Group: "default", Version: "1.0.0"},
			// A collision with another service is a 409 naming it (conflict_test.go).
			kind: errConflict,
		},
		{
			name: "a new version that breaks the running one is refused, the old one keeps running",
			tmpl: nodes("a"),
			setup: func(e *env, s spec.Service) {
				e.mustPublish(s.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
				e.setRoutes(s, spec.Route{Name: "list", Plugins: spec.Plugins{"ip-restriction": json.RawMessage(`{"allow":["not an ip"]}`)}})
			},
			req:  release.PublishRequest{Group: "default", Version: "1.1.0"},
			kind: errFields, fields: []string{"services[orders].routes[list].plugins.ip-restriction"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc := e.service(spec.Service{Name: "orders", Path: "/orders", Upstream: tc.tmpl}, route)
			if tc.setup != nil {
				tc.setup(e, svc)
			}
			name := tc.service
			if name == "" {
				name = svc.Name
			}
			before := e.state()
			_, err := e.publish(name, tc.req)
			checkErr(t, err, tc.kind, tc.fields...)
			e.unchanged(before)
		})
	}
}

// TestPublishUpstream checks which upstream a publish runs with: the
// request's, else the template's (inline or referenced), else the one the
// group runs now.
func TestPublishUpstream(t *testing.T) {
	route := spec.Route{Name: "list"}
	cases := []struct {
		name      string
		tmpl      *spec.Upstream
		ref       *spec.Upstream // a project upstream the template refers to
		running   *spec.Upstream // published as 1.0.0 with this upstream first
		given     *spec.Upstream
		wantHosts []string
		wantDisc  string
	}{
		{name: "request wins over template", tmpl: nodes("tmpl"), given: nodes("req1", "req2"), wantHosts: []string{"req1", "req2"}},
		{name: "request wins over running", tmpl: nodes("tmpl"), running: nodes("run"), given: nodes("req"), wantHosts: []string{"req"}},
		{name: "inline template", tmpl: nodes("tmpl"), wantHosts: []string{"tmpl"}},
		{name: "referenced template", ref: nodes("ref"), wantHosts: []string{"ref"}},
		{name: "template wins over running", tmpl: nodes("tmpl"), running: nodes("run"), wantHosts: []string{"tmpl"}},
		{name: "running nodes reused", running: nodes("run1", "run2"), wantHosts: []string{"run1", "run2"}},
		{name: "running discovery reused", running: discovery("orders"), wantDisc: "orders"},
		{name: "discovery stays discovery", running: discovery("orders"), given: discovery("orders-v2"), wantDisc: "orders-v2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if slices.ContainsFunc([]*spec.Upstream{tc.tmpl, tc.ref, tc.running, tc.given}, isDiscovered) {
				e.dnsRegistry("default")
			}
			s := spec.Service{Name: "orders", Upstream: tc.tmpl}
			if tc.ref != nil {
				ref := *tc.ref
				ref.ProjectID, ref.Name = spec.DefaultProject, "orders-backend"
				e.tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateUpstream(ctx, &ref) })
				s.UpstreamID = ref.ID
			}
			svc := e.service(s, route)
			if tc.running != nil {
				// Publish with the template out of the way, so the group runs tc.running.
				tmpl := svc.Upstream
				svc.Upstream, svc.UpstreamID = nil, ""
				e.tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateService(ctx, &svc) })
				e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: tc.running})
				svc.Upstream, svc.UpstreamID = tmpl, s.UpstreamID
				e.tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateService(ctx, &svc) })
			}
			d := e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "2.0.0", Upstream: tc.given})
			e.tx(func(ctx context.Context, tx store.Tx) error {
				stored, err := tx.GetDeployment(ctx, "default", svc.ID)
				if err != nil {
					return err
				}
				for what, u := range map[string]spec.Upstream{"returned": d.Upstream, "stored": stored.Upstream} {
					if got := hostsOf(u); !sameStrings(got, tc.wantHosts) {
						t.Errorf("%s deployment nodes = %v, want %v", what, got, tc.wantHosts)
					}
					if (u.Discovery == nil) != (tc.wantDisc == "") || (u.Discovery != nil && u.Discovery.ServiceName != tc.wantDisc) {
						t.Errorf("%s deployment discovery = %+v, want %q", what, u.Discovery, tc.wantDisc)
					}
					if u.ID != "" || u.ProjectID != "" || !u.CreatedAt.IsZero() || !u.UpdatedAt.IsZero() {
						t.Errorf("%s deployment upstream keeps the identity of a project upstream: %+v", what, u)
					}
				}
				return nil
			})
		})
	}
}

// A registered API (an upstream given by url) is published like nodes,
// and a project upstream keeps its tls, checks and retry policy into the
// deployment.
func TestPublishURLAndProjectUpstreamSettings(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "third", Upstream: &spec.Upstream{URL: "https://api.example.com/v2"}}, spec.Route{Name: "x"})
	d := e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
	if d.Upstream.URL != "https://api.example.com/v2" {
		t.Fatalf("deployment upstream = %+v, want the url", d.Upstream)
	}
	// From a url to nodes and back is no switch to discovery.
	e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.0.1", Upstream: nodes("n1")})

	ref := spec.Upstream{ProjectID: spec.DefaultProject, Name: "checked", Scheme: "https",
		Nodes:       []spec.Node{{Host: "n1", Port: 443, Weight: 1}},
		TLS:         &spec.UpstreamTLS{ServerName: "backend.internal"},
		Checks:      &spec.HealthChecks{Active: &spec.ActiveCheck{Path: "/healthz"}},
		RetryPolicy: &spec.RetryPolicy{On: []string{"status"}}}
	e.tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateUpstream(ctx, &ref) })
	svc2 := e.service(spec.Service{Name: "checked", UpstreamID: ref.ID}, spec.Route{Name: "y"})
	d = e.mustPublish(svc2.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
	if d.Upstream.TLS == nil || d.Upstream.TLS.ServerName != "backend.internal" || d.Upstream.Checks == nil ||
		d.Upstream.RetryPolicy == nil {
		t.Fatalf("deployment lost the project upstream's settings: %+v", d.Upstream)
	}
}
