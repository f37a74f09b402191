package adminapi

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// Tests of the rule "nothing is accepted and ignored": every field the
// admin API accepts has an effect, or is refused with 400 naming it.

// runningCanary publishes service svc on upstream a and starts a canary to
// upstream b with a guard; it answers the canary's id.
func runningCanary(t *testing.T, a *testAPI) string {
	t.Helper()
	a.mustJSON("POST", "/projects/default/upstreams", `{"name":"a","nodes":[{"host":"127.0.0.1","port":1}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/upstreams", `{"name":"b","nodes":[{"host":"127.0.0.1","port":2}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services", `{"name":"svc","upstream_id":"a","routes":[{"name":"r"}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/svc/publish", `{"group":"default","version":"1.0.0"}`, http.StatusCreated, nil)
	var c spec.Canary
	a.mustJSON("POST", "/projects/default/services/svc/canary", `{"group":"default","target":{"upstream_id":"b"},"weight":10,
	   "guard":{"max_error_rate":0.5,"min_requests":5}}`, http.StatusCreated, &c)
	return c.ID
}

// wantRefused checks for a 400 naming field.
func wantRefused(t *testing.T, r response, field string) {
	t.Helper()
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), field) {
		t.Errorf("status %d %s, want 400 naming %s", r.status, r.body, field)
	}
}

// TestCanaryPatchGuardAndRemoveGuard (F12): guard and remove_guard together
// are refused naming remove_guard, and the guard stays.
func TestCanaryPatchGuardAndRemoveGuard(t *testing.T) {
	a := newTestAPI(t)
	id := runningCanary(t, a)
	path := "/projects/default/services/svc/canary/" + id
	wantRefused(t, a.do("PATCH", path, `{"guard":{"max_error_rate":0.1,"min_requests":1},"remove_guard":true}`), "remove_guard")
	var c spec.Canary
	a.mustJSON("GET", path, nil, http.StatusOK, &c)
	if c.Guard == nil || c.Guard.MaxErrorRate != 0.5 {
		t.Errorf("guard after the refused PATCH = %+v, want the original", c.Guard)
	}
	var removed spec.Canary
	a.mustJSON("PATCH", path, `{"remove_guard":true}`, http.StatusOK, &removed)
	if removed.Guard != nil {
		t.Errorf("remove_guard alone left guard %+v", removed.Guard)
	}
}

// concretePath fills an endpoint's path parameters with placeholders:
// the refusals tested here come before any lookup.
func concretePath(path string) string {
	return regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(path, "x")
}

// TestBodilessEndpointsRefuseABody (F10): every endpoint that declares no
// request type and does not read its body itself answers 400 naming what
// was sent; empty and {} pass.
func TestBodilessEndpointsRefuseABody(t *testing.T) {
	a := newTestAPI(t)
	n := 0
	for _, ep := range (&server{}).endpoints() {
		if ep.req != nil || ep.rawBody {
			continue
		}
		n++
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			path := concretePath(ep.path)
			wantRefused(t, a.do(ep.method, path, `{"x":1}`), "x")
			wantRefused(t, a.do(ep.method, path, `[1]`), "body")
			wantRefused(t, a.do(ep.method, path, `not json`), "body")
			if ep.path == "/auth/logout" {
				return // an empty body would end the test's session
			}
			for _, ok := range []any{nil, "{}"} {
				if r := a.do(ep.method, path, ok); r.status == http.StatusBadRequest {
					t.Errorf("body %v: 400 %s", ok, r.body)
				}
			}
		})
	}
	if n < 40 {
		t.Fatalf("only %d bodiless endpoints found", n)
	}
}

// TestBodyOfBodilessEndpointIgnoredNoMore (F10): the audit's cases did
// something while ignoring the body; now they do nothing.
func TestBodyOfBodilessEndpointIgnoredNoMore(t *testing.T) {
	a := newTestAPI(t)
	id := runningCanary(t, a)
	cancel := "/projects/default/services/svc/canary/" + id + "/cancel"
	wantRefused(t, a.do("POST", cancel, `{"reason":"because"}`), "reason")
	var c spec.Canary
	a.mustJSON("GET", "/projects/default/services/svc/canary/"+id, nil, http.StatusOK, &c)
	if c.State != spec.CanaryRunning {
		t.Errorf("canary after a refused cancel: %s", c.State)
	}
	a.mustJSON("POST", cancel, "{}", http.StatusOK, nil)

	wantRefused(t, a.do("POST", "/projects/default/export", `{"services":["only-this-one"]}`), "services")
	wantRefused(t, a.do("DELETE", "/projects/default/upstreams/b", `{"force":true}`), "force")
	a.mustJSON("GET", "/projects/default/upstreams/b", nil, http.StatusOK, nil)
	wantRefused(t, a.do("POST", "/auth/logout", `{"everywhere":true}`), "everywhere")
	a.mustJSON("GET", "/me", nil, http.StatusOK, nil) // the token still works
}

// TestUnknownQueryParametersRefused (F11): every endpoint refuses a query
// parameter it does not read, naming it, and a single-valued one given
// twice.
func TestUnknownQueryParametersRefused(t *testing.T) {
	a := newTestAPI(t)
	for _, ep := range (&server{}).endpoints() {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			wantRefused(t, a.do(ep.method, concretePath(ep.path)+"?bogus=1", nil), "bogus")
			for _, name := range ep.query {
				if queryParams[name].explode {
					continue
				}
				wantRefused(t, a.do(ep.method, concretePath(ep.path)+"?"+name+"=1&"+name+"=2", nil), name)
			}
		})
	}
	wantRefused(t, a.do("GET", "/projects?page=1;x", nil), "query")
	a.mustJSON("GET", "/projects?page=1&page_size=5&q=def", nil, http.StatusOK, nil)
}

// TestConfigDryRunTypoRefused (F11): ?dryrun=true, a typo of dry_run, is
// refused and applies nothing (it used to apply the change for real).
func TestConfigDryRunTypoRefused(t *testing.T) {
	a := newTestAPI(t)
	doc := `{"services":[{"name":"svc","upstream":{"nodes":[{"host":"127.0.0.1","port":1}]}}]}`
	wantRefused(t, a.do("PUT", "/projects/default/config?dryrun=true", doc), "dryrun")
	if r := a.do("GET", "/projects/default/services/svc", nil); r.status != http.StatusNotFound {
		t.Errorf("service after the refused PUT: %d, want 404", r.status)
	}
	var res configResult
	a.mustJSON("PUT", "/projects/default/config?dry_run=true", doc, http.StatusOK, &res)
	if res.Applied || len(res.Changes) == 0 {
		t.Errorf("dry run answered %+v", res)
	}
}
