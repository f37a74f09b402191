package adminapi

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TestAlertRules: create with defaults, read, list firing first, patch,
// delete; every write audited; what only the server sets is refused.
func TestAlertRules(t *testing.T) {
	var events []string
	a := newTestAPI(t, func(c *Config) {
		c.Events = func(_ context.Context, _ store.Tx, project, event string, data any) error {
			events = append(events, project+" "+event+" "+data.(spec.AlertEvent).RuleName)
			return nil
		}
	})
	orders, billing := a.createService("orders"), a.createService("billing")
	base := "/projects/default/services/" + orders.ID + "/alerts"

	var r spec.AlertRule
	a.mustJSON("POST", base, map[string]any{"name": "errors", "metric": "error_rate", "threshold": 0.05}, http.StatusCreated, &r)
	if r.ID == "" || r.Project != "default" || r.Service != orders.ID || r.ServiceName != "orders" || r.Group != "default" ||
		r.Window != "5m0s" || r.MinRequests != 10 || !r.Enabled || r.State != spec.AlertOK {
		t.Fatalf("created with defaults = %+v", r)
	}
	var slow spec.AlertRule
	a.mustJSON("POST", "/projects/default/services/"+billing.ID+"/alerts", map[string]any{"name": "slow", "metric": "p99_ms",
		"threshold": 250, "window": "1m", "min_requests": 20, "enabled": false, "group": "default"}, http.StatusCreated, &slow)
	if slow.Enabled || slow.MinRequests != 20 || slow.Window != "1m" {
		t.Fatalf("created as given = %+v", slow)
	}
	wantConflict(t, "a second rule of that name", a.do("POST", base, map[string]any{"name": "errors", "metric": "error_rate", "threshold": 0.5}), "already")

	var got spec.AlertRule
	a.mustJSON("GET", base+"/"+r.ID, nil, http.StatusOK, &got)
	if got.ID != r.ID || got.Threshold != 0.05 {
		t.Errorf("GET = %+v", got)
	}
	wantCode(t, "a rule under another service", a.do("GET", "/projects/default/services/"+billing.ID+"/alerts/"+r.ID, nil), http.StatusNotFound)

	// The evaluator fires the orders rule; the project's list shows it first.
	err := a.store.Tx(context.Background(), func(tx store.Tx) error {
		return tx.TransitionAlert(context.Background(), r.ID, spec.AlertOK, spec.AlertFiring, 0.5, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	var all listResultOf[spec.AlertRule]
	a.mustJSON("GET", "/projects/default/alerts", nil, http.StatusOK, &all)
	if all.Total != 2 || all.Items[0].ID != r.ID || all.Items[0].State != spec.AlertFiring || all.Items[1].ID != slow.ID {
		t.Errorf("project alerts = %+v", all)
	}
	var one listResultOf[spec.AlertRule]
	a.mustJSON("GET", "/projects/default/services/"+billing.ID+"/alerts", nil, http.StatusOK, &one)
	if one.Total != 1 || one.Items[0].Name != "slow" {
		t.Errorf("billing's alerts = %+v", one)
	}

	// A threshold change keeps the state; disabling a firing rule resolves
	// it, with its event and a line of history.
	a.mustJSON("PATCH", base+"/"+r.ID, map[string]any{"threshold": 0.1}, http.StatusOK, &got)
	if got.Threshold != 0.1 || got.State != spec.AlertFiring || got.Metric != spec.AlertErrorRate || got.Name != "errors" {
		t.Errorf("after a threshold patch: %+v", got)
	}
	a.mustJSON("PATCH", base+"/"+r.ID, map[string]any{"enabled": false}, http.StatusOK, &got)
	if got.Enabled || got.State != spec.AlertOK || got.ResolvedAt.IsZero() {
		t.Errorf("after disabling: %+v", got)
	}
	if want := []string{"default alert.resolved errors"}; !slices.Equal(events, want) {
		t.Errorf("events = %q, want %q", events, want)
	}
	var hist listResultOf[spec.AlertEvent]
	a.mustJSON("GET", "/projects/default/alerts/events", nil, http.StatusOK, &hist)
	if hist.Total != 1 || hist.Items[0].State != spec.AlertResolved || hist.Items[0].Value != 0.5 || hist.Items[0].ServiceName != "orders" {
		t.Errorf("history = %+v", hist)
	}
	// A merge patch with null goes back to the default.
	a.mustJSON("PATCH", "/projects/default/services/"+billing.ID+"/alerts/"+slow.ID, map[string]any{"min_requests": nil}, http.StatusOK, &got)
	if got.MinRequests != spec.AlertMinRequestsDefault {
		t.Errorf("min_requests after null = %d", got.MinRequests)
	}

	wantCode(t, "delete", a.do("DELETE", base+"/"+r.ID, nil), http.StatusNoContent)
	wantCode(t, "deleted", a.do("GET", base+"/"+r.ID, nil), http.StatusNotFound)

	var audit listResultOf[spec.AuditEvent]
	a.mustJSON("GET", "/audit-events?action=alert.", nil, http.StatusOK, &audit)
	var actions []string
	for _, e := range audit.Items {
		actions = append(actions, e.Action)
	}
	if want := []string{"alert.delete", "alert.update", "alert.update", "alert.update", "alert.create", "alert.create"}; !slices.Equal(actions, want) {
		t.Errorf("audit = %q, want %q", actions, want)
	}
}

// TestAlertRuleValidation: each refusal names its field.
func TestAlertRuleValidation(t *testing.T) {
	a := newTestAPI(t)
	svc := a.createService("orders")
	base := "/projects/default/services/" + svc.ID + "/alerts"
	ok := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "r", "metric": "error_rate", "threshold": 0.5}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"unknown field", ok(map[string]any{"severity": "high"}), "severity"},
		{"no name", ok(map[string]any{"name": ""}), "name"},
		{"no metric", ok(map[string]any{"metric": ""}), "metric"},
		{"unknown metric", ok(map[string]any{"metric": "p50_ms"}), "metric"},
		{"error rate above 1", ok(map[string]any{"threshold": 1.5}), "threshold"},
		{"error rate of 0", ok(map[string]any{"threshold": 0}), "threshold"},
		{"negative latency", ok(map[string]any{"metric": "p99_ms", "threshold": -1}), "threshold"},
		{"window too short", ok(map[string]any{"window": "30s"}), "window"},
		{"window too long", ok(map[string]any{"window": "16m"}), "window"},
		{"window not a duration", ok(map[string]any{"window": "five minutes"}), "window"},
		{"window off the resolution", ok(map[string]any{"window": "65s"}), "window"},
		{"negative min_requests", ok(map[string]any{"min_requests": -1}), "min_requests"},
		{"a bad group", ok(map[string]any{"group": "No Such"}), "group"},
		{"state set", ok(map[string]any{"state": "firing"}), "state"},
		{"id set", ok(map[string]any{"id": "x"}), "id"},
		{"wrong type", ok(map[string]any{"threshold": "high"}), "threshold"},
	} {
		r := a.do("POST", base, c.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; %s", c.name, r.status, r.body)
			continue
		}
		if f := r.fields(t); !slices.Contains(f, c.field) {
			t.Errorf("%s: fields %v, want %s", c.name, f, c.field)
		}
	}
	wantCode(t, "a missing group", a.do("POST", base, ok(map[string]any{"group": "nope"})), http.StatusNotFound)
	var r spec.AlertRule
	a.mustJSON("POST", base, ok(nil), http.StatusCreated, &r)
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"state", map[string]any{"state": "firing"}, "state"},
		{"last_value", map[string]any{"last_value": 3}, "last_value"},
		{"unknown", map[string]any{"colour": "red"}, "colour"},
		{"threshold", map[string]any{"metric": "p99_ms", "threshold": 0}, "threshold"},
	} {
		resp := a.do("PATCH", base+"/"+r.ID, c.body)
		if resp.status != http.StatusBadRequest || !slices.Contains(resp.fields(t), c.field) {
			t.Errorf("patch %s: status %d, %s", c.name, resp.status, resp.body)
		}
	}
}

// TestAlertRulePermissions: a member who reads services reads rules but
// cannot write them; one who writes services can.
func TestAlertRulePermissions(t *testing.T) {
	a := newTestAPI(t)
	svc := a.createService("orders")
	base := "/projects/default/services/" + svc.ID + "/alerts"
	var r spec.AlertRule
	a.mustJSON("POST", base, map[string]any{"name": "r", "metric": "error_rate", "threshold": 0.5}, http.StatusCreated, &r)
	viewer := a.personIn(t, "watcher", "default", rbac.Viewer)
	provider := a.personIn(t, "builder", "default", rbac.APIProvider)
	outsider := a.personIn(t, "stranger", "", "")

	wantCode(t, "viewer lists", a.doToken(viewer, "GET", "/projects/default/alerts", nil), http.StatusOK)
	wantCode(t, "viewer reads", a.doToken(viewer, "GET", base+"/"+r.ID, nil), http.StatusOK)
	wantCode(t, "viewer creates", a.doToken(viewer, "POST", base, map[string]any{"name": "x", "metric": "error_rate", "threshold": 0.5}), http.StatusForbidden)
	wantCode(t, "viewer patches", a.doToken(viewer, "PATCH", base+"/"+r.ID, map[string]any{"threshold": 0.2}), http.StatusForbidden)
	wantCode(t, "viewer deletes", a.doToken(viewer, "DELETE", base+"/"+r.ID, nil), http.StatusForbidden)
	wantCode(t, "outsider lists", a.doToken(outsider, "GET", "/projects/default/alerts", nil), http.StatusNotFound)
	wantCode(t, "provider creates", a.doToken(provider, "POST", base, map[string]any{"name": "x", "metric": "p99_ms", "threshold": 100}), http.StatusCreated)
	wantCode(t, "provider patches", a.doToken(provider, "PATCH", base+"/"+r.ID, map[string]any{"threshold": 0.2}), http.StatusOK)
	wantCode(t, "provider deletes", a.doToken(provider, "DELETE", base+"/"+r.ID, nil), http.StatusNoContent)
}
