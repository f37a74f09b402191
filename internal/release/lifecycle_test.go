package release_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// stageEnv is newEnv with the test and production stages on the default project: test
// group "test" and production group "production" (or, with same, both
// "default").
func stageEnv(t *testing.T, same bool) *env {
	t.Helper()
	e := newEnv(t)
	e.tx(func(ctx context.Context, tx store.Tx) error {
		g := spec.GatewayGroup{Name: "production", PathPrefix: "/api/gateway"}
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		if same {
			return nil
		}
		p, err := tx.GetProject(ctx, spec.DefaultProject)
		if err != nil {
			return err
		}
		p.TestGroup, p.ProductionGroup = "test", "production"
		return tx.UpdateProject(ctx, &p)
	})
	return e
}

// act runs a lifecycle action in its own transaction, as the admin API does.
func (e *env) act(service, action string, req release.ActionRequest) (release.ActionResult, error) {
	var res release.ActionResult
	ctx := e.t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		var err error
		res, err = release.Act(ctx, tx, actor, spec.DefaultProject, service, action, req)
		return err
	})
	return res, err
}

func (e *env) mustAct(service string, actions ...string) {
	e.t.Helper()
	for _, a := range actions {
		if _, err := e.act(service, a, release.ActionRequest{}); err != nil {
			e.t.Fatalf("%s %s: %v", a, service, err)
		}
	}
}

// running maps group → version of what runs for the service.
func (e *env) running(serviceID string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	e.tx(func(ctx context.Context, tx store.Tx) error {
		deps, err := tx.ListDeploymentsByService(ctx, serviceID)
		for _, d := range deps {
			out[d.Group] = d.Version
		}
		return err
	})
	return out
}

func (e *env) serviceState(serviceID string) string {
	e.t.Helper()
	var st string
	e.tx(func(ctx context.Context, tx store.Tx) error {
		s, err := tx.GetService(ctx, spec.DefaultProject, serviceID)
		st = s.State
		return err
	})
	return st
}

// setupStates drives a fresh service into each state.
var setupStates = map[string][]string{
	spec.StateDraft:     nil,
	spec.StateSubmitted: {"submit"},
	spec.StatePublished: {"submit", "publish"},
	spec.StateDisabled:  {"submit", "publish", "disable"},
}

// TestLifecycleStateTable runs every action of the actions endpoint in
// every state, on separate test and production groups and on one group
// playing both roles: an allowed action has its effect (state, what runs,
// history through Commit); a refused one is a StateError naming the state
// and the allowed actions, and changes nothing.
func TestLifecycleStateTable(t *testing.T) {
	type effect struct {
		state   string
		running map[string]string // group → version
		events  int               // release events recorded
		err     error             // a content refusal (store.ErrConflict), not a state one
	}
	none := map[string]string{}
	separate := map[string]map[string]effect{
		spec.StateDraft: {
			"submit": {state: spec.StateSubmitted, running: map[string]string{"test": "1.0.0"}, events: 1},
		},
		spec.StateSubmitted: {
			"withdraw": {state: spec.StateDraft, running: none, events: 1},
			"publish":  {state: spec.StatePublished, running: map[string]string{"test": "1.0.0", "production": "1.0.0"}, events: 1},
		},
		spec.StatePublished: {
			"submit":    {state: spec.StatePublished, running: map[string]string{"test": "1.0.1", "production": "1.0.0"}, events: 1},
			"republish": {err: store.ErrConflict}, // production already runs the test version
			"disable":   {state: spec.StateDisabled, running: none, events: 2},
		},
		spec.StateDisabled: {
			"enable": {state: spec.StatePublished, running: map[string]string{"test": "1.0.0", "production": "1.0.0"}, events: 2},
		},
	}
	same := map[string]map[string]effect{
		spec.StateDraft: {
			"submit": {state: spec.StateSubmitted, running: map[string]string{"default": "1.0.0"}, events: 1},
		},
		spec.StateSubmitted: {
			"withdraw": {state: spec.StateDraft, running: none, events: 1},
			"publish":  {state: spec.StatePublished, running: map[string]string{"default": "1.0.0"}, events: 1},
		},
		spec.StatePublished: {
			"submit":    {state: spec.StatePublished, running: map[string]string{"default": "1.0.1"}, events: 1},
			"republish": {err: store.ErrConflict},
			"disable":   {state: spec.StateDisabled, running: none, events: 1},
		},
		spec.StateDisabled: {
			"enable": {state: spec.StatePublished, running: map[string]string{"default": "1.0.0"}, events: 1},
		},
	}
	endpointActions := []string{"submit", "withdraw", "publish", "republish", "disable", "enable"}
	for _, mode := range []struct {
		name    string
		same    bool
		effects map[string]map[string]effect
	}{{"separate", false, separate}, {"same group", true, same}} {
		for _, from := range slices.Sorted(maps.Keys(setupStates)) {
			for _, action := range endpointActions {
				t.Run(mode.name+"/"+from+"/"+action, func(t *testing.T) {
					t.Parallel()
					e := stageEnv(t, mode.same)
					svc := e.service(spec.Service{Name: "user", Path: "/user/active", Upstream: nodes("10.0.0.1"), State: spec.StateDraft},
						spec.Route{Name: "user_info"})
					e.mustAct(svc.ID, setupStates[from]...)
					before := e.state()
					res, err := e.act(svc.ID, action, release.ActionRequest{})
					want, allowed := mode.effects[from][action]
					switch {
					case !allowed:
						var se *release.StateError
						if !errors.As(err, &se) || !errors.Is(err, release.ErrState) {
							t.Fatalf("error = %v, want a StateError", err)
						}
						if se.State != from || se.Action != action || !slices.Equal(se.Allowed, release.AllowedActions(from)) {
							t.Errorf("StateError = %+v, want state %s, allowed %v", se, from, release.AllowedActions(from))
						}
						e.unchanged(before)
						return
					case want.err != nil:
						if !errors.Is(err, want.err) {
							t.Fatalf("error = %v, want %v", err, want.err)
						}
						e.unchanged(before)
						return
					case err != nil:
						t.Fatalf("unexpected error: %v", err)
					}
					if got := e.serviceState(svc.ID); got != want.state || res.State != want.state || res.FromState != from {
						t.Errorf("state: stored %s, answered %s from %s; want %s from %s", got, res.State, res.FromState, want.state, from)
					}
					if diff := cmp.Diff(want.running, e.running(svc.ID)); diff != "" {
						t.Errorf("running (-want +got):\n%s", diff)
					}
					if !slices.Equal(res.AllowedActions, release.AllowedActions(want.state)) {
						t.Errorf("allowed_actions = %v", res.AllowedActions)
					}
					after := e.state()
					hist := after.History[svc.ID][:len(after.History[svc.ID])-len(before.History[svc.ID])]
					if len(hist) != want.events || len(res.Changes) != want.events {
						t.Fatalf("events recorded %d, answered %d, want %d", len(hist), len(res.Changes), want.events)
					}
					for _, ev := range hist {
						var d release.LifecycleDetail
						if err := json.Unmarshal([]byte(ev.Detail), &d); err != nil {
							t.Fatalf("detail %q: %v", ev.Detail, err)
						}
						if ev.Action != action || ev.Actor != actor || d.Parts != want.events || d.State != want.state || d.FromState != from {
							t.Errorf("history event %+v, detail %+v", ev, d)
						}
						if after.Revisions[ev.Group] <= before.Revisions[ev.Group] || ev.Revision != after.Revisions[ev.Group] {
							t.Errorf("group %s revision %d → %d, event at %d: want a Commit", ev.Group,
								before.Revisions[ev.Group], after.Revisions[ev.Group], ev.Revision)
						}
					}
					audits := 0
					for _, a := range after.Audit[:len(after.Audit)-len(before.Audit)] {
						if a.Action == "service."+action {
							audits++
						}
					}
					if audits != 1 {
						t.Errorf("%d service.%s audit events, want 1", audits, action)
					}
				})
			}
		}
	}
}

// TestLifecycleEditAndDelete checks the table's rows for the two actions
// the admin API checks itself.
func TestLifecycleEditAndDelete(t *testing.T) {
	for state, want := range map[string][2]bool{ // edit, delete
		spec.StateDraft: {true, true}, spec.StateSubmitted: {true, false},
		spec.StatePublished: {true, false}, spec.StateDisabled: {false, true},
	} {
		s := &spec.Service{Name: "x", State: state}
		for i, action := range []string{release.ActionEdit, release.ActionDelete} {
			err := release.CheckAction(s, action)
			if (err == nil) != want[i] {
				t.Errorf("%s in %s: error %v, want allowed=%v", action, state, err, want[i])
			}
		}
	}
	if got := release.AllowedActions(""); !slices.Equal(got, []string{"edit", "submit", "delete"}) {
		t.Errorf("a service without state allows %v, want a draft's", got)
	}
}

// TestLifecycleOnSeparateGroups walks the publishing lifecycle on separate groups: the versions, the
// upstreams and the restored deployment are exactly the ones expected.
func TestLifecycleOnSeparateGroups(t *testing.T) {
	e := stageEnv(t, false)
	svc := e.service(spec.Service{Name: "user", Path: "/user/active", Upstream: nodes("10.0.0.1"), State: spec.StateDraft},
		spec.Route{Name: "user_info"})
	res, err := e.act(svc.ID, "submit", release.ActionRequest{Version: "2.0.0"})
	if err != nil || res.Version != "2.0.0" {
		t.Fatalf("submit 2.0.0 = %+v, %v", res, err)
	}
	// Production gets its own nodes at publish; republish keeps them.
	if _, err := e.act(svc.ID, "publish", release.ActionRequest{Upstream: nodes("10.9.9.9")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.act(svc.ID, "submit", release.ActionRequest{Version: "2.0.0"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("submit of an existing version: %v, want a conflict", err)
	}
	if _, err := e.act(svc.ID, "withdraw", release.ActionRequest{}); !errors.Is(err, release.ErrState) {
		t.Errorf("withdraw while published: %v, want ErrState", err)
	}
	if res, err := e.act(svc.ID, "submit", release.ActionRequest{}); err != nil || res.Version != "2.0.1" {
		t.Fatalf("submit = %+v, %v; want 2.0.1", res, err)
	}
	if diff := cmp.Diff(map[string]string{"test": "2.0.1", "production": "2.0.0"}, e.running(svc.ID)); diff != "" {
		t.Errorf("after submit (-want +got):\n%s", diff)
	}
	if _, err := e.act(svc.ID, "republish", release.ActionRequest{}); err != nil {
		t.Fatal(err)
	}
	var prod spec.Deployment
	e.tx(func(ctx context.Context, tx store.Tx) error {
		var err error
		prod, err = tx.GetDeployment(ctx, "production", svc.ID)
		return err
	})
	if prod.Version != "2.0.1" || !slices.Equal(hostsOf(prod.Upstream), []string{"10.0.0.1"}) {
		// The template's inline upstream is frozen in the version, so it wins
		// over what production ran (PublishRequest semantics).
		t.Errorf("production after republish = %s on %v, want 2.0.1 on the template's node", prod.Version, hostsOf(prod.Upstream))
	}
	e.mustAct(svc.ID, "disable")
	if v, _ := e.snapshotRoutes("production", svc.ID); v != "" {
		t.Errorf("production still runs %s after disable", v)
	}
	res, err = e.act(svc.ID, "enable", release.ActionRequest{})
	if err != nil || res.Version != "2.0.1" {
		t.Fatalf("enable = %+v, %v", res, err)
	}
	e.tx(func(ctx context.Context, tx store.Tx) error {
		d, err := tx.GetDeployment(ctx, "production", svc.ID)
		if d.Version != prod.Version || !slices.Equal(hostsOf(d.Upstream), hostsOf(prod.Upstream)) {
			t.Errorf("enable restored %s on %v, want %s on %v", d.Version, hostsOf(d.Upstream), prod.Version, hostsOf(prod.Upstream))
		}
		parked, _ := tx.ListParkedDeployments(ctx, svc.ID)
		if len(parked) != 0 {
			t.Errorf("parked after enable: %+v", parked)
		}
		return err
	})
	if v, routes := e.snapshotRoutes("production", svc.ID); v != "2.0.1" || routes["user_info"] != nil {
		t.Errorf("production snapshot %s %v", v, routes)
	}
}

func TestNextVersion(t *testing.T) {
	for _, tc := range []struct {
		have []string
		want string
	}{
		{nil, "1.0.0"},
		{[]string{"1.0.0"}, "1.0.1"},
		{[]string{"1.0.9", "1.0.10", "0.9.0"}, "1.0.11"},
		{[]string{"2.0.0-rc1", "1.5.0"}, "2.0.1"},
		{[]string{"v3.1.4", "beta"}, "3.1.5"},
		{[]string{"beta", "1.0.0x"}, "1.0.0"},
		{[]string{"1.0.0-a", "1.0.1"}, "1.0.2"},
	} {
		if got := release.NextVersion(tc.have); got != tc.want {
			t.Errorf("NextVersion(%q) = %s, want %s", tc.have, got, tc.want)
		}
	}
}

// When test and production are one group, a publish moves nothing: an
// upstream or data sources given to it would be ignored, so they are
// refused naming the field.
func TestLifecyclePublishOnOneGroupRefusesUpstream(t *testing.T) {
	e := stageEnv(t, true)
	svc := e.service(spec.Service{Name: "one", Upstream: nodes("10.0.0.1"), State: spec.StateDraft}, spec.Route{Name: "r"})
	e.mustAct(svc.ID, "submit")
	for field, req := range map[string]release.ActionRequest{
		"upstream":     {Upstream: nodes("10.9.9.9")},
		"data_sources": {DataSources: map[string]string{"a": "b"}},
	} {
		_, err := e.act(svc.ID, "publish", req)
		var fe spec.FieldErrors
		if !errors.As(err, &fe) || fe[0].Field != field {
			t.Errorf("publish with %s on one group: %v, want a field error naming it", field, err)
		}
	}
	e.mustAct(svc.ID, "publish")
}
