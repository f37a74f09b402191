package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

// TestPublishFlow follows the README's curl tour: login, create a service
// and a route, publish, read versions and history, publish the same version
// again (409), publish another and roll back.
func TestPublishFlow(t *testing.T) {
	a := newTestAPI(t)
	// Bodies as curl -d sends them: raw JSON text with a form content type.
	var svc spec.Service
	a.mustJSON("POST", "/projects/default/services", `{"name":"httpbin","protocols":["http"]}`, http.StatusCreated, &svc)
	if svc.ID == "" || svc.State != spec.StateDraft || svc.ProjectID != "default" {
		t.Fatalf("created service = %+v, want an id, state draft, project default", svc)
	}
	var rt spec.Route
	a.mustJSON("POST", "/projects/default/services/"+svc.ID+"/routes",
		`{"name":"getting-started-anything","paths":["/anything/*"],"methods":["GET"]}`, http.StatusCreated, &rt)
	if rt.ID == "" || rt.ServiceID != svc.ID {
		t.Fatalf("created route = %+v, want an id and service_id %s", rt, svc.ID)
	}

	publish := `{"group":"default","version":"1.0.0",
	   "upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":8080,"weight":100}]}}`
	var pub publishResponse
	a.mustJSON("POST", "/projects/default/services/"+svc.ID+"/publish", publish, http.StatusCreated, &pub)
	if pub.Group != "default" || pub.Version != "1.0.0" || pub.ServiceID != svc.ID || pub.Revision <= 0 {
		t.Fatalf("publish answer = %+v, want group default, version 1.0.0, a revision", pub)
	}

	r := a.do("POST", "/projects/default/services/"+svc.ID+"/publish", publish)
	if r.status != http.StatusConflict {
		t.Fatalf("publishing 1.0.0 again: status %d, want 409; body %s", r.status, r.body)
	}
	if p := r.problem(t); p.Detail == "" {
		t.Error("409 answer has no detail")
	}

	// The group lists the service with its public URL.
	var gs struct {
		Items []groupService
		Total int
	}
	a.mustJSON("GET", "/gateway-groups/default/services", nil, http.StatusOK, &gs)
	if gs.Total != 1 || len(gs.Items) != 1 {
		t.Fatalf("group services = %+v, want one", gs)
	}
	if got, want := gs.Items[0].URLs, []string{"/anything/*"}; !slices.Equal(got, want) {
		t.Errorf("urls = %q, want %q", got, want)
	}
	if gs.Items[0].ServiceName != "httpbin" || gs.Items[0].Version != "1.0.0" {
		t.Errorf("group service = %+v, want httpbin 1.0.0", gs.Items[0])
	}

	// 1.1.0 runs, then roll back to 1.0.0 (by the service's name this time).
	a.mustJSON("POST", "/projects/default/services/httpbin/publish",
		`{"group":"default","version":"1.1.0"}`, http.StatusCreated, nil)
	var rb spec.Deployment
	a.mustJSON("POST", "/projects/default/services/httpbin/rollback", `{"group":"default","version":"1.0.0"}`, http.StatusOK, &rb)
	if rb.Version != "1.0.0" || rb.Group != "default" {
		t.Fatalf("rollback answer = %+v, want 1.0.0 in default", rb)
	}

	var vs struct {
		Items []versionInfo
		Total int
	}
	a.mustJSON("GET", "/projects/default/services/"+svc.ID+"/versions", nil, http.StatusOK, &vs)
	got := map[string][]string{}
	for _, v := range vs.Items {
		got[v.Version.Version] = v.Groups
	}
	if diff := cmp.Diff(map[string][]string{"1.0.0": {"default"}, "1.1.0": {}}, got); diff != "" || vs.Total != 2 {
		t.Errorf("versions (-want +got) total %d:\n%s", vs.Total, diff)
	}
	var v versionInfo
	a.mustJSON("GET", "/projects/default/services/"+svc.ID+"/versions/1.0.0", nil, http.StatusOK, &v)
	if len(v.Service.Routes) != 1 || v.Service.Routes[0].Name != "getting-started-anything" {
		t.Errorf("version 1.0.0 routes = %+v, want the route", v.Service.Routes)
	}

	var hist struct {
		Items []spec.HistoryEvent
		Total int
	}
	a.mustJSON("GET", "/projects/default/services/"+svc.ID+"/history", nil, http.StatusOK, &hist)
	var actions []string
	for _, e := range hist.Items {
		actions = append(actions, e.Action+" "+e.Version)
	}
	if diff := cmp.Diff([]string{"rollback 1.0.0", "publish 1.1.0", "publish 1.0.0"}, actions); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	a.mustJSON("GET", "/projects/default/services/"+svc.ID+"/history?group=other", nil, http.StatusOK, &hist)
	if hist.Total != 0 || hist.Items == nil {
		t.Errorf("history of another group = %+v, want an empty list", hist)
	}

	// A running service cannot be deleted.
	if r := a.do("DELETE", "/projects/default/services/"+svc.ID, nil); r.status != http.StatusConflict {
		t.Errorf("delete running service: status %d, want 409; body %s", r.status, r.body)
	}

	// Every change left an audit event.
	var audit struct {
		Items []spec.AuditEvent
		Total int
	}
	a.mustJSON("GET", "/audit-events?page_size=500", nil, http.StatusOK, &audit)
	seen := map[string]bool{}
	for _, e := range audit.Items {
		seen[e.Action] = true
	}
	for _, want := range []string{"auth.login", "service.create", "route.create"} {
		if !seen[want] {
			t.Errorf("audit log lacks %s; has %v", want, seen)
		}
	}
}

func TestPublishErrors(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	base := "/projects/default/services/" + s.ID
	tests := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{"unknown service", "/projects/default/services/nope/publish", `{"group":"default","version":"1.0.0"}`, http.StatusNotFound},
		{"unknown project", "/projects/nope/services/svc/publish", `{"group":"default","version":"1.0.0"}`, http.StatusNotFound},
		{"unknown field", base + "/publish", `{"group":"default","version":"1.0.0","bogus":1}`, http.StatusBadRequest},
		{"empty body", base + "/publish", ``, http.StatusBadRequest},
		{"rollback to a version never published", base + "/rollback", `{"group":"default","version":"9.9.9"}`, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do("POST", tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			_ = r.problem(t)
		})
	}
}

func TestVersionNotFound(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	r := a.do("GET", fmt.Sprintf("/projects/default/services/%s/versions/1.0.0", s.ID), nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("status %d, want 404; body %s", r.status, r.body)
	}
	var p problem
	_ = json.Unmarshal(r.body, &p)
	if want := `version "1.0.0" of service "svc" not found`; p.Detail != want {
		t.Errorf("detail = %q, want %q", p.Detail, want)
	}
}

// TestPublishExistingVersion checks that a version string the service
// already has is refused with 409 wherever and however it is published, and
// that the refusal changes nothing.
func TestPublishExistingVersion(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	base := "/projects/default/services/" + s.ID
	a.mustJSON("POST", base+"/routes", `{"name":"r","paths":["/r"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/gateway-groups", `{"name":"test"}`, http.StatusCreated, nil)
	up := `"upstream":{"nodes":[{"host":"127.0.0.1","port":8080}]}`
	a.mustJSON("POST", base+"/publish", `{"group":"default","version":"1.0.0",`+up+`}`, http.StatusCreated, nil)
	a.mustJSON("POST", base+"/publish", `{"group":"default","version":"1.1.0"}`, http.StatusCreated, nil)

	type state struct {
		Versions, History int
		Revisions         map[string]int64
	}
	read := func() state {
		st := state{Revisions: map[string]int64{}}
		var l struct{ Total int }
		a.mustJSON("GET", base+"/versions", nil, http.StatusOK, &l)
		st.Versions = l.Total
		a.mustJSON("GET", base+"/history", nil, http.StatusOK, &l)
		st.History = l.Total
		for _, g := range []string{"default", "test"} {
			var gg spec.GatewayGroup
			a.mustJSON("GET", "/gateway-groups/"+g, nil, http.StatusOK, &gg)
			st.Revisions[g] = gg.Revision
		}
		return st
	}
	before := read()

	tests := []struct {
		name, path, body, version string
	}{
		{"an earlier version to the same group", base + "/publish", `{"group":"default","version":"1.0.0",` + up + `}`, "1.0.0"},
		{"an earlier version without upstream", base + "/publish", `{"group":"default","version":"1.0.0"}`, "1.0.0"},
		{"the version running now", base + "/publish", `{"group":"default","version":"1.1.0"}`, "1.1.0"},
		{"an existing version to another group", base + "/publish", `{"group":"test","version":"1.0.0",` + up + `}`, "1.0.0"},
		{"by the service's name", "/projects/default/services/svc/publish", `{"group":"test","version":"1.1.0",` + up + `}`, "1.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do("POST", tt.path, tt.body)
			if r.status != http.StatusConflict {
				t.Fatalf("status %d, want 409; body %s", r.status, r.body)
			}
			if p := r.problem(t); p.Type != typeConflict || !strings.Contains(p.Detail, `"`+tt.version+`"`) {
				t.Errorf("problem = %+v, want type %s and a detail naming %q", p, typeConflict, tt.version)
			}
		})
	}
	if diff := cmp.Diff(before, read()); diff != "" {
		t.Errorf("refused publishes changed something (-before +after):\n%s", diff)
	}
}

// TestPanicAnswers500 checks that a handler's panic is answered as a 500
// problem rather than a dropped connection (here: a server without a store).
func TestPanicAnswers500(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	t.Cleanup(srv.Close)
	a := &testAPI{t: t, url: srv.URL, token: "any"}
	r := a.do("GET", "/me", nil)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %s", r.status, r.body)
	}
	if p := r.problem(t); p.Type != typeInternal {
		t.Errorf("problem = %+v, want type %s", p, typeInternal)
	}
}
