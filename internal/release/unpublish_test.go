package release_test

import (
	"context"
	"testing"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func (e *env) unpublish(service, group string) (release.UnpublishResult, error) {
	var res release.UnpublishResult
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		res, err = release.Unpublish(ctx, tx, actor, spec.DefaultProject, service, release.UnpublishRequest{Group: group})
		return err
	})
	return res, err
}

// stagedEnv makes the default project's stages two groups: test and
// default (production).
func stagedEnv(t *testing.T) *env {
	e := newEnv(t)
	e.tx(func(ctx context.Context, tx store.Tx) error {
		p, err := tx.GetProject(ctx, spec.DefaultProject)
		if err != nil {
			return err
		}
		p.TestGroup = "test"
		return tx.UpdateProject(ctx, &p)
	})
	return e
}

func (e *env) whereRuns(name string) (string, []spec.Placement) {
	e.t.Helper()
	var state string
	var ps []spec.Placement
	e.tx(func(ctx context.Context, tx store.Tx) error {
		s, err := tx.GetService(ctx, spec.DefaultProject, name)
		if err != nil {
			return err
		}
		state = release.State(&s)
		ps, err = release.Placements(ctx, tx, &s)
		return err
	})
	return state, ps
}

// TestDirectReleasesSettleTheState: publish, sync and unpublish leave a
// state that says where the service runs, and unpublish takes a service
// off whatever put it there, so it can be deleted.
func TestDirectReleasesSettleTheState(t *testing.T) {
	e := stagedEnv(t)
	e.service(spec.Service{Name: "orders", Upstream: nodes("node-a")},
		spec.Route{Name: "list", Paths: []string{"/orders"}})

	e.mustPublish("orders", release.PublishRequest{Group: "test", Version: "1.0.0"})
	if st, ps := e.whereRuns("orders"); st != spec.StateSubmitted || len(ps) != 1 ||
		ps[0] != (spec.Placement{Group: "test", Stage: spec.StageTest, Version: "1.0.0"}) {
		t.Fatalf("after a publish to test: %s %+v, want submitted in test", st, ps)
	}
	_, err := e.sync("orders", release.SyncRequest{FromGroup: "test", ToGroup: "default"})
	checkErr(t, err, errNone)
	st, ps := e.whereRuns("orders")
	if st != spec.StatePublished || len(ps) != 2 || ps[0].Stage != spec.StageProduction || ps[1].Stage != spec.StageTest {
		t.Fatalf("after a sync to production: %s %+v, want published, production first", st, ps)
	}
	if got := spec.RunningSummary(ps); got != "production (default) 1.0.0; test 1.0.0" {
		t.Errorf("summary = %q", got)
	}

	before := e.state()
	res, err := e.unpublish("orders", "default")
	checkErr(t, err, errNone)
	if res.Version != "1.0.0" || res.FromState != spec.StatePublished || res.State != spec.StateSubmitted ||
		len(res.Running) != 1 || res.Running[0].Group != "test" {
		t.Errorf("unpublish from production = %+v", res)
	}
	after := e.state()
	if after.Revisions["default"] <= before.Revisions["default"] || after.Revisions["test"] != before.Revisions["test"] {
		t.Errorf("revisions %v -> %v, want only default bumped", before.Revisions, after.Revisions)
	}
	if h := after.History[e.serviceID("orders")][0]; h.Action != "unpublish" || h.Group != "default" || h.FromVersion != "1.0.0" || h.Version != "" {
		t.Errorf("history = %+v", h)
	}
	if len(after.Deployments["default"]) != 0 {
		t.Errorf("default still runs %+v", after.Deployments["default"])
	}

	_, err = e.unpublish("orders", "default")
	checkErr(t, err, errConflict) // nothing runs there
	_, err = e.unpublish("orders", "nowhere")
	checkErr(t, err, errFields, "group")
	_, err = e.unpublish("orders", "")
	checkErr(t, err, errFields, "group")

	res, err = e.unpublish("orders", "test")
	checkErr(t, err, errNone)
	if res.State != spec.StateDraft || len(res.Running) != 0 {
		t.Errorf("unpublish from test = %+v, want a draft running nowhere", res)
	}
	id := e.serviceID("orders")
	e.tx(func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteService(ctx, spec.DefaultProject, id)
	})
}

// TestUnpublishUnderCanary: a running canary holds the service in its
// group.
func TestUnpublishUnderCanary(t *testing.T) {
	e, _ := canaryEnv(t)
	if _, err := e.canary("shop", release.CanaryCreate{Group: "default", Target: spec.CanaryTarget{Version: "1.1.0"}, Weight: 20}); err != nil {
		t.Fatal(err)
	}
	_, ps := e.whereRuns("shop")
	if len(ps) != 2 || ps[0].Canary == nil || ps[0].Canary.Weight != 20 || ps[0].Canary.Version != "1.1.0" {
		t.Fatalf("placements = %+v, want the canary in default", ps)
	}
	if got := ps[0].String(); got != "production (default) 1.0.0 · canary 20 % → 1.1.0" {
		t.Errorf("placement = %q", got)
	}
	before := e.state()
	_, err := e.unpublish("shop", "default")
	if err == nil {
		t.Fatal("unpublish under a running canary succeeded")
	}
	e.unchanged(before)
}

// TestSettledState is the state table of where a service runs.
func TestSettledState(t *testing.T) {
	cases := []struct {
		name   string
		same   bool
		state  string
		groups []string
		want   string
	}{
		{name: "nowhere", state: spec.StatePublished, want: spec.StateDraft},
		{name: "disabled nowhere", state: spec.StateDisabled, want: spec.StateDisabled},
		{name: "disabled, published again to test", state: spec.StateDisabled, groups: []string{"t"}, want: spec.StateSubmitted},
		{name: "draft in production", state: spec.StateDraft, groups: []string{"p"}, want: spec.StatePublished},
		{name: "draft in test", state: spec.StateDraft, groups: []string{"t"}, want: spec.StateSubmitted},
		{name: "draft in another group", state: spec.StateDraft, groups: []string{"staging"}, want: spec.StateSubmitted},
		{name: "published off production", state: spec.StatePublished, groups: []string{"t"}, want: spec.StateSubmitted},
		{name: "one group: running there is submitted", same: true, state: spec.StateDraft, groups: []string{"p"}, want: spec.StateSubmitted},
		{name: "one group: published stays", same: true, state: spec.StatePublished, groups: []string{"p"}, want: spec.StatePublished},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			test := "t"
			if c.same {
				test = "p"
			}
			if got := release.SettledState(c.state, test, "p", c.groups); got != c.want {
				t.Errorf("SettledState(%s, %v) = %s, want %s", c.state, c.groups, got, c.want)
			}
		})
	}
}

func (e *env) serviceID(name string) string {
	e.t.Helper()
	var id string
	e.tx(func(ctx context.Context, tx store.Tx) error {
		s, err := tx.GetService(ctx, spec.DefaultProject, name)
		id = s.ID
		return err
	})
	return id
}
