package adminapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// shopAPI is newTestAPI with the test/production layout: groups test and
// production, project shop using them, and service user (path
// /user/active, route user_info) in it.
func shopAPI(t *testing.T) (*testAPI, spec.Service) {
	t.Helper()
	a := newTestAPI(t)
	a.mustJSON("POST", "/gateway-groups", map[string]any{"name": "test", "path_prefix": "/api/gateway/test/{project}"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/gateway-groups", map[string]any{"name": "production", "path_prefix": "/api/gateway"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects", map[string]any{"id": "shop", "name": "Shop", "test_group": "test", "production_group": "production"}, http.StatusCreated, nil)
	var s spec.Service
	a.mustJSON("POST", "/projects/shop/services", map[string]any{"name": "user", "path": "/user/active", "upstream": testUpstream,
		"routes": []map[string]any{{"name": "user_info"}}}, http.StatusCreated, &s)
	return a, s
}

// action posts a lifecycle action of the shop's user service.
func (a *testAPI) action(action string, body any) response {
	a.t.Helper()
	return a.do("POST", "/projects/shop/services/user/actions/"+action, body)
}

func (a *testAPI) mustAction(action string, body any) release.ActionResult {
	a.t.Helper()
	var res release.ActionResult
	a.decode(a.action(action, body), &res)
	return res
}

// wantState checks a 409 naming the state and its allowed actions.
func wantState(t *testing.T, r response, state string) {
	t.Helper()
	if r.status != http.StatusConflict {
		t.Fatalf("status %d, want 409; body %s", r.status, r.body)
	}
	p := r.problem(t)
	if p.Type != typeState || p.State != state || !slices.Equal(p.AllowedActions, release.AllowedActions(state)) {
		t.Errorf("problem = %+v, want type %s, state %s, allowed %v", p, typeState, state, release.AllowedActions(state))
	}
	// The extension members are the JSON names the admin API's clients read.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.body, &raw)
	if raw["state"] == nil || raw["allowed_actions"] == nil {
		t.Errorf("problem %s lacks state or allowed_actions", r.body)
	}
}

func TestLifecycleActions(t *testing.T) {
	a, s := shopAPI(t)
	if s.State != spec.StateDraft || !slices.Equal(s.AllowedActions, []string{"edit", "submit", "delete"}) {
		t.Fatalf("created service state %q allowed %v", s.State, s.AllowedActions)
	}
	wantState(t, a.action("publish", nil), spec.StateDraft)
	wantState(t, a.action("withdraw", "{}"), spec.StateDraft)

	// Bodies are strict: a field another action takes is unknown here.
	if r := a.action("withdraw", `{"version":"1.0.0"}`); r.status != http.StatusBadRequest || !slices.Equal(r.fields(t), []string{"version"}) {
		t.Errorf("withdraw with a version: %d %s", r.status, r.body)
	}
	if r := a.action("submit", `{"version":"not a version"}`); r.status != http.StatusBadRequest || !slices.Equal(r.fields(t), []string{"version"}) {
		t.Errorf("submit with a bad version: %d %s", r.status, r.body)
	}

	res := a.mustAction("submit", nil)
	if res.State != spec.StateSubmitted || res.FromState != spec.StateDraft || res.Version != "1.0.0" ||
		len(res.Changes) != 1 || res.Changes[0].Group != "test" || res.Changes[0].Revision == 0 {
		t.Errorf("submit = %+v", res)
	}
	var got spec.Service
	a.mustJSON("GET", "/projects/shop/services/user", nil, http.StatusOK, &got)
	if got.State != spec.StateSubmitted || !slices.Equal(got.AllowedActions, []string{"edit", "withdraw", "publish", "unpublish"}) {
		t.Errorf("service after submit: state %q allowed %v", got.State, got.AllowedActions)
	}
	wantState(t, a.do("DELETE", "/projects/shop/services/user", nil), spec.StateSubmitted)
	wantState(t, a.action("submit", nil), spec.StateSubmitted)

	var cat struct {
		Items []catalogEntry
		Total int
	}
	a.mustJSON("GET", "/catalog", nil, http.StatusOK, &cat)
	if cat.Total != 0 {
		t.Errorf("catalog lists a submitted service: %+v", cat)
	}

	res = a.mustAction("publish", `{}`)
	if res.State != spec.StatePublished || len(res.Deployments) != 2 {
		t.Errorf("publish = %+v", res)
	}
	a.mustJSON("GET", "/catalog", nil, http.StatusOK, &cat)
	want := catalogEntry{ID: s.ID, Name: "user", Project: "shop", TestGroup: "test", ProductionGroup: "production",
		Versions: map[string]string{"test": "1.0.0", "production": "1.0.0"},
		URLs: map[string][]string{"test": {"/api/gateway/test/shop/user/active/user_info"},
			"production": {"/api/gateway/user/active/user_info"}}}
	if cat.Total != 1 || len(cat.Items) != 1 {
		t.Fatalf("catalog = %+v, want the user service", cat)
	}
	cat.Items[0].UpdatedAt = want.UpdatedAt
	// Publishing lists it: the admin publishing approves the request.
	if l := cat.Items[0].Listing; l.Version != "1.0.0" || l.ServiceID != s.ID || l.AutoApprove {
		t.Errorf("listing = %+v", l)
	}
	want.Listing, want.Plans = cat.Items[0].Listing, []spec.Plan{}
	if diff := cmp.Diff(want, cat.Items[0]); diff != "" {
		t.Errorf("catalog entry (-want +got):\n%s", diff)
	}
	var one catalogEntry
	a.mustJSON("GET", "/catalog/user", nil, http.StatusOK, &one)
	a.mustJSON("GET", "/catalog/"+s.ID+"?project=shop", nil, http.StatusOK, &one)
	if one.ID != s.ID {
		t.Errorf("catalog/{id} = %+v", one)
	}

	// Republish with nothing new in the test group is a conflict, not a state refusal.
	if r := a.action("republish", nil); r.status != http.StatusConflict || r.problem(t).Type != typeConflict {
		t.Errorf("republish with nothing new: %d %s", r.status, r.body)
	}
	a.mustJSON("PATCH", "/projects/shop/services/user", map[string]any{"description": "v2"}, http.StatusOK, nil)
	if res = a.mustAction("submit", nil); res.Version != "1.0.1" || res.State != spec.StatePublished {
		t.Errorf("second submit = %+v", res)
	}
	a.mustJSON("GET", "/catalog/user", nil, http.StatusOK, &one)
	if one.Versions["test"] != "1.0.1" || one.Versions["production"] != "1.0.0" {
		t.Errorf("catalog versions after a second submit = %v", one.Versions)
	}
	a.mustAction("republish", nil)

	res = a.mustAction("disable", nil)
	if res.State != spec.StateDisabled || len(res.Deployments) != 0 || len(res.Changes) != 2 {
		t.Errorf("disable = %+v", res)
	}
	if r := a.do("GET", "/catalog/user", nil); r.status != http.StatusNotFound {
		t.Errorf("catalog/user of a disabled service: %d", r.status)
	}
	// Disabled: no edit (service or routes), no other action.
	wantState(t, a.do("PATCH", "/projects/shop/services/user", map[string]any{"description": "x"}), spec.StateDisabled)
	wantState(t, a.do("POST", "/projects/shop/services/user/routes", map[string]any{"name": "other"}), spec.StateDisabled)
	wantState(t, a.do("PATCH", "/projects/shop/services/user/routes/user_info", map[string]any{"description": "x"}), spec.StateDisabled)
	wantState(t, a.do("DELETE", "/projects/shop/services/user/routes/user_info", nil), spec.StateDisabled)
	for _, act := range []string{"submit", "withdraw", "publish", "republish", "disable"} {
		wantState(t, a.action(act, nil), spec.StateDisabled)
	}

	res = a.mustAction("enable", nil)
	if res.State != spec.StatePublished || res.Version != "1.0.1" {
		t.Errorf("enable = %+v", res)
	}

	// Per-group history: every release event of the group, newest first.
	var hist struct {
		Items []spec.HistoryEvent
		Total int
	}
	a.mustJSON("GET", "/gateway-groups/production/history", nil, http.StatusOK, &hist)
	var actions []string
	for _, e := range hist.Items {
		actions = append(actions, e.Action+" "+e.FromVersion+"→"+e.Version)
	}
	wantActions := []string{"enable →1.0.1", "disable 1.0.1→", "republish 1.0.0→1.0.1", "publish →1.0.0"}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("production history (-want +got):\n%s", diff)
	}
	a.mustJSON("GET", "/projects/shop/services/user/history?group=test", nil, http.StatusOK, &hist)
	if hist.Total != 4 { // submit, submit, disable, enable
		t.Errorf("test-group history of user: %+v", hist)
	}
	if r := a.do("GET", "/gateway-groups/nope/history", nil); r.status != http.StatusNotFound {
		t.Errorf("history of a missing group: %d", r.status)
	}

	// Delete: refused while published, allowed once disabled.
	wantState(t, a.do("DELETE", "/projects/shop/services/user", nil), spec.StatePublished)
	a.mustAction("disable", nil)
	a.mustJSON("DELETE", "/projects/shop/services/user", nil, http.StatusNoContent, nil)

	var audit struct{ Items []spec.AuditEvent }
	a.mustJSON("GET", "/audit-events?page_size=100", nil, http.StatusOK, &audit)
	seen := map[string]bool{}
	for _, e := range audit.Items {
		seen[e.Action] = true
	}
	for _, act := range []string{"service.submit", "service.publish", "service.republish", "service.disable", "service.enable", "release.submit"} {
		if !seen[act] {
			t.Errorf("no %s audit event", act)
		}
	}
}

// TestLifecycleSameGroup covers the default project, where test and
// production are both gateway group default.
func TestLifecycleSameGroup(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects/default/services", map[string]any{"name": "user", "upstream": testUpstream,
		"routes": []map[string]any{{"name": "user_info"}}}, http.StatusCreated, nil)
	act := func(action string) release.ActionResult {
		var res release.ActionResult
		a.decode(a.do("POST", "/projects/default/services/user/actions/"+action, nil), &res)
		return res
	}
	if res := act("submit"); len(res.Deployments) != 1 || res.Deployments[0].Group != "default" {
		t.Errorf("submit = %+v", res)
	}
	if res := act("publish"); res.State != spec.StatePublished || len(res.Changes) != 1 || res.Changes[0].FromVersion != "1.0.0" {
		t.Errorf("publish = %+v", res)
	}
	if res := act("submit"); res.Deployments[0].Version != "1.0.1" {
		t.Errorf("second submit runs %+v, want 1.0.1 at once", res.Deployments)
	}
	r := a.do("POST", "/projects/default/services/user/actions/republish", nil)
	if r.status != http.StatusConflict || r.problem(t).Type != typeConflict {
		t.Errorf("republish on one group: %d %s", r.status, r.body)
	}
	if res := act("disable"); len(res.Deployments) != 0 || len(res.Changes) != 1 {
		t.Errorf("disable = %+v", res)
	}
	if res := act("enable"); res.Version != "1.0.1" || len(res.Deployments) != 1 {
		t.Errorf("enable = %+v", res)
	}
}
