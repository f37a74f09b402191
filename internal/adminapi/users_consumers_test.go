package adminapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// defaultConsumers names the applications the default group's gateways
// admit.
func (a *testAPI) defaultConsumers(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		snap, err := tx.Snapshot(context.Background(), []string{spec.DefaultGroup})
		for _, g := range snap.Groups {
			for _, c := range g.Consumers {
				names[c.Name] = true
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestDisabledUsersApplicationsLeaveTheGateways: a user's own
// application stops authenticating at the gateways while the user is
// disabled and comes back when enabled; deleting the user deletes it. A
// project's application made by that user stays.
func TestDisabledUsersApplicationsLeaveTheGateways(t *testing.T) {
	a := newTestAPI(t)
	svc := a.createService("weather")
	a.mustJSON("POST", "/projects/default/services/weather/publish", map[string]any{"group": "default", "version": "1.0.0",
		"upstream": testUpstream}, http.StatusCreated, nil)
	tok := a.member(t, "owen", "default", rbac.ProjectAdmin)
	var mine, proj spec.Application
	a.decode(a.doToken(tok, "POST", "/applications", map[string]any{"name": "owens-own"}), &mine)
	a.decode(a.doToken(tok, "POST", "/applications", map[string]any{"name": "project-app", "project": "default"}), &proj)
	for _, id := range []string{mine.ID, proj.ID} {
		if r := a.doToken(tok, "POST", "/applications/"+id+"/credentials", map[string]any{"type": "key-auth"}); r.status != http.StatusCreated {
			t.Fatalf("credential: %d %s", r.status, r.body)
		}
	}
	if r := a.doToken(tok, "POST", "/subscriptions", map[string]any{"application": mine.ID, "service": svc.ID}); r.status != http.StatusCreated {
		t.Fatalf("subscription: %d %s", r.status, r.body)
	}
	if got := a.defaultConsumers(t); !got["owens-own"] || !got["project-app"] {
		t.Fatalf("consumers before: %v", got)
	}
	// The project's application and the subscription to its service are
	// the project's events: its admin reads them.
	for _, action := range []string{"application.create", "subscription.create"} {
		var events struct{ Items []spec.AuditEvent }
		a.decode(a.doToken(tok, "GET", "/audit-events?project=default&action="+action, nil), &events)
		if len(events.Items) != 1 || events.Items[0].Project != "default" {
			t.Errorf("%s events the project admin sees: %+v", action, events.Items)
		}
	}
	a.mustJSON("PATCH", "/users/owen", map[string]any{"disabled": true}, http.StatusOK, nil)
	if got := a.defaultConsumers(t); got["owens-own"] || !got["project-app"] {
		t.Errorf("consumers of a disabled owner: %v, want only project-app", got)
	}
	a.mustJSON("PATCH", "/users/owen", map[string]any{"disabled": false}, http.StatusOK, nil)
	if got := a.defaultConsumers(t); !got["owens-own"] {
		t.Errorf("consumers after enabling: %v", got)
	}
	a.mustJSON("DELETE", "/users/owen", nil, http.StatusNoContent, nil)
	if got := a.defaultConsumers(t); got["owens-own"] || !got["project-app"] {
		t.Errorf("consumers after deleting the owner: %v, want only project-app", got)
	}
	if r := a.do("GET", "/applications/"+mine.ID, nil); r.status != http.StatusNotFound {
		t.Errorf("the deleted user's application: %d, want 404", r.status)
	}
}
