package release_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func (e *env) canary(service string, req release.CanaryCreate) (spec.Canary, error) {
	var c spec.Canary
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		c, err = release.CreateCanary(ctx, tx, actor, spec.DefaultProject, service, req)
		return err
	})
	return c, err
}

// canaryOf returns the canary the gateway gets for the service in group.
func (e *env) canaryOf(group, serviceID string) *spec.CanaryRoute {
	e.t.Helper()
	var out *spec.CanaryRoute
	e.tx(func(ctx context.Context, tx store.Tx) error {
		snap, err := tx.Snapshot(ctx, []string{group})
		for _, gs := range snap.Groups {
			for _, ds := range gs.Services {
				if ds.Service.ID == serviceID {
					out = ds.Canary
				}
			}
		}
		return err
	})
	return out
}

// canaryEnv is the shop service running 1.0.0 on node-a in default, with
// 1.1.0 published to test on node-b.
func canaryEnv(t *testing.T) (*env, spec.Service) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "shop"},
		spec.Route{Name: "create_product", Paths: []string{"/products"}},
		spec.Route{Name: "list_orders", Paths: []string{"/orders"}})
	e.mustPublish("shop", release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: nodes("node-a")})
	e.mustPublish("shop", release.PublishRequest{Group: "test", Version: "1.1.0", Upstream: nodes("node-b")})
	e.tx(func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: spec.DefaultProject, Name: "shop_server_new",
			Nodes: []spec.Node{{Host: "node-new", Port: 80, Weight: 1}}})
	})
	return e, svc
}

func TestCreateCanaryRefusals(t *testing.T) {
	e, _ := canaryEnv(t)
	e.service(spec.Service{Name: "idle"}, spec.Route{Name: "r"})
	up := release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{UpstreamID: "shop_server_new"}, Weight: 10}
	with := func(f func(*release.CanaryCreate)) release.CanaryCreate { r := up; f(&r); return r }
	tests := []struct {
		name    string
		service string
		req     release.CanaryCreate
		kind    errKind
		fields  []string
	}{
		{"no group", "shop", with(func(r *release.CanaryCreate) { r.Group = "" }), errFields, []string{"group"}},
		{"unknown group", "shop", with(func(r *release.CanaryCreate) { r.Group = "nope" }), errFields, []string{"group"}},
		{"weight 101", "shop", with(func(r *release.CanaryCreate) { r.Weight = 101 }), errFields, []string{"weight"}},
		{"two targets", "shop", with(func(r *release.CanaryCreate) { r.Target.Version = "1.1.0" }), errFields, []string{"target"}},
		{"no target", "shop", with(func(r *release.CanaryCreate) { r.Target = spec.CanaryTarget{} }), errFields, []string{"target"}},
		{"bad rule", "shop", with(func(r *release.CanaryCreate) { r.Rules = []spec.CanaryRule{{Kind: "body", Name: "x", Value: "1"}} }), errFields, []string{"rules[0].kind"}},
		{"bad guard", "shop", with(func(r *release.CanaryCreate) {
			r.Guard = &spec.CanaryGuard{MaxErrorRate: 5, MinRequests: 0, Window: "1h"}
		}), errFields, []string{"guard.max_error_rate", "guard.min_requests", "guard.window"}},
		{"unknown route", "shop", with(func(r *release.CanaryCreate) { r.Routes = []string{"create_product", "nope"} }), errFields, []string{"routes[1]"}},
		{"unknown upstream", "shop", with(func(r *release.CanaryCreate) { r.Target.UpstreamID = "nope" }), errFields, []string{"target.upstream_id"}},
		{"unknown version", "shop", with(func(r *release.CanaryCreate) { r.Target = spec.CanaryTarget{Version: "9.9.9"} }), errFields, []string{"target.version"}},
		{"the running version", "shop", with(func(r *release.CanaryCreate) { r.Target = spec.CanaryTarget{Version: "1.0.0"} }), errConflict, nil},
		{"service runs nowhere", "idle", up, errConflict, nil},
		{"unknown service", "nope", up, errNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			_, err := e.canary(tt.service, tt.req)
			checkErr(t, err, tt.kind, tt.fields...)
			e.unchanged(before)
		})
	}
}

func TestCanaryLifecycle(t *testing.T) {
	e, svc := canaryEnv(t)
	c, err := e.canary("shop", release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{Version: "1.1.0"},
		Weight: 10, Routes: []string{"create_product"}, HashOn: "cookie:uid"})
	checkErr(t, err, errNone)
	if c.State != spec.CanaryRunning || c.BaseVersion != "1.0.0" {
		t.Fatalf("created %+v", c)
	}
	// A version target runs with the upstream that version runs with in
	// another group (the service template has none): test's node-b.
	got := e.canaryOf("default", svc.ID)
	if got == nil || got.ID != c.ID || got.Weight != 10 || got.HashOn != "cookie:uid" || hostsOf(got.Target)[0] != "node-b" {
		t.Fatalf("snapshot canary = %+v", got)
	}
	if e.canaryOf("test", svc.ID) != nil {
		t.Error("the canary leaked into another group")
	}

	_, err = e.canary("shop", release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{UpstreamID: "shop_server_new"}, Weight: 50})
	checkErr(t, err, errConflict)
	_, err = e.publish("shop", release.PublishRequest{Group: "default", Version: "1.2.0"})
	checkErr(t, err, errConflict)
	// Other groups are not held back.
	e.mustPublish("shop", release.PublishRequest{Group: "test", Version: "1.2.0", Upstream: nodes("node-b")})

	ctx := t.Context()
	w := 40
	e.tx(func(ctx context.Context, tx store.Tx) error {
		c, err = release.UpdateCanary(ctx, tx, actor, spec.DefaultProject, "shop", c.ID, release.CanaryPatch{Weight: &w})
		return err
	})
	if got := e.canaryOf("default", svc.ID); got.Weight != 40 {
		t.Errorf("weight after PATCH = %d, want 40", got.Weight)
	}
	bad := 300
	before := e.state()
	err = e.st.Tx(ctx, func(tx store.Tx) error {
		_, err := release.UpdateCanary(ctx, tx, actor, spec.DefaultProject, "shop", c.ID, release.CanaryPatch{Weight: &bad})
		return err
	})
	checkErr(t, err, errFields, "weight")
	e.unchanged(before)

	e.tx(func(ctx context.Context, tx store.Tx) error {
		c, err = release.PromoteCanary(ctx, tx, actor, spec.DefaultProject, "shop", c.ID, release.CanaryPromote{}, nil)
		return err
	})
	if c.State != spec.CanaryCompleted || c.PromotedVersion != "1.1.0" || c.EndedAt == nil {
		t.Errorf("promoted %+v", c)
	}
	if v, _ := e.snapshotRoutes("default", svc.ID); v != "1.1.0" {
		t.Errorf("default runs %s after promoting version 1.1.0", v)
	}
	if e.canaryOf("default", svc.ID) != nil {
		t.Error("a completed canary still splits traffic")
	}
	err = e.st.Tx(ctx, func(tx store.Tx) error {
		_, err := release.CancelCanary(ctx, tx, actor, spec.DefaultProject, "shop", c.ID, "", nil)
		return err
	})
	checkErr(t, err, errConflict)
	h := e.state().History[svc.ID]
	if h[0].Action != "canary.promote" || h[0].Version != "1.1.0" || h[0].FromVersion != "1.0.0" {
		t.Errorf("latest history = %+v", h[0])
	}
}

// fakeFigures reports fixed target figures for every canary.
type fakeFigures struct{ target spec.SideFigures }

func (f fakeFigures) TargetFigures(string, time.Duration) (spec.SideFigures, bool) {
	return f.target, true
}
func (f fakeFigures) CanaryFigures(string) ([]spec.CanaryWindow, bool) {
	return []spec.CanaryWindow{{Window: "1m0s", Target: f.target}}, true
}

func TestGuard(t *testing.T) {
	guard := &spec.CanaryGuard{MaxErrorRate: 0.1, MinRequests: 50, Window: "30s"}
	tests := []struct {
		name    string
		target  spec.SideFigures
		cancels bool
	}{
		{"healthy", spec.SideFigures{Requests: 100, Errors: 5, ErrorRate: 0.05}, false},
		{"too few requests", spec.SideFigures{Requests: 10, Errors: 10, ErrorRate: 1}, false},
		{"at the limit", spec.SideFigures{Requests: 100, Errors: 10, ErrorRate: 0.1}, false},
		{"over the limit", spec.SideFigures{Requests: 100, Errors: 30, ErrorRate: 0.3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, svc := canaryEnv(t)
			c, err := e.canary("shop", release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{UpstreamID: "shop_server_new"}, Weight: 50, Guard: guard})
			checkErr(t, err, errNone)
			g := &release.Guard{Store: e.st, Figures: fakeFigures{tt.target}}
			if err := g.Check(t.Context()); err != nil {
				t.Fatal(err)
			}
			e.tx(func(ctx context.Context, tx store.Tx) error {
				c, err = tx.GetCanary(ctx, svc.ID, c.ID)
				return err
			})
			if got := c.State == spec.CanaryCancelled; got != tt.cancels {
				t.Fatalf("state %s, want cancelled: %v", c.State, tt.cancels)
			}
			if !tt.cancels {
				return
			}
			if !strings.Contains(c.Reason, "30.0%") || len(c.Figures) != 1 {
				t.Errorf("reason %q, figures %+v", c.Reason, c.Figures)
			}
			h := e.state().History[svc.ID][0]
			if h.Action != "canary.cancel" || h.Actor != release.GuardActor || !strings.Contains(h.Detail, "guard") {
				t.Errorf("history %+v", h)
			}
		})
	}
}

// A canary splits traffic between upstreams after the running version's
// routes and plugins ran: a version target that serves differently, or
// that would run on the very upstream the group runs, is refused naming
// target.version rather than accepted and split for nothing.
func TestCanaryVersionTargetRefused(t *testing.T) {
	e := newEnv(t)
	svc := e.service(spec.Service{Name: "shop"}, spec.Route{Name: "list", Paths: []string{"/list"}})
	e.mustPublish("shop", release.PublishRequest{Group: "default", Version: "1.0.0", Upstream: nodes("node-a")})
	// 1.0.1: the same routes, published nowhere else, no upstream of its own.
	e.mustPublish("shop", release.PublishRequest{Group: "test", Version: "1.0.1", Upstream: nodes("node-a")})
	// 2.0.0: another route.
	svc.Routes = nil
	e.tx(func(ctx context.Context, tx store.Tx) error {
		return tx.CreateRoute(ctx, &spec.Route{ServiceID: svc.ID, Name: "add", Paths: []string{"/add"}})
	})
	e.mustPublish("shop", release.PublishRequest{Group: "test", Version: "2.0.0", Upstream: nodes("node-b")})
	for _, v := range []string{"1.0.1", "2.0.0"} {
		before := e.state()
		_, err := e.canary("shop", release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{Version: v}, Weight: 10})
		checkErr(t, err, errFields, "target.version")
		e.unchanged(before)
	}
}
