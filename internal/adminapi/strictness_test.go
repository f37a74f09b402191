package adminapi

import (
	"net/http"
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
