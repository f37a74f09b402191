package adminapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func (a *testAPI) revision() int64 {
	a.t.Helper()
	var g spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &g)
	return g.Revision
}

func TestApplicationsCRUD(t *testing.T) {
	a := newTestAPI(t)
	var app spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "call credentials", "project": "default"}, http.StatusCreated, &app)
	if app.ID == "" || app.ProjectID != "default" || app.Owner == "" {
		t.Fatalf("created %+v", app)
	}
	var mine spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "mine"}, http.StatusCreated, &mine)
	if mine.ProjectID != "" {
		t.Errorf("user application has project %q", mine.ProjectID)
	}

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"project": "default"}, "name"},
		{"unknown field", map[string]any{"name": "x", "colour": "red"}, "colour"},
		{"missing project", map[string]any{"name": "x", "project": "nope"}, "project"},
		{"missing service", map[string]any{"name": "x", "project": "default", "services": []string{"nope"}}, "services[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", "/applications", tc.body)
			if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
				t.Errorf("status %d fields %v, want 400 naming %s; %s", r.status, r.fields(t), tc.field, r.body)
			}
		})
	}
	if r := a.do("POST", "/applications", map[string]any{"name": "mine"}); r.status != http.StatusConflict {
		t.Errorf("duplicate name: status %d", r.status)
	}

	var got listResultOf[spec.Application]
	a.mustJSON("GET", "/applications?project=default", nil, http.StatusOK, &got)
	if got.Total != 1 || got.Items[0].ID != app.ID {
		t.Errorf("list ?project=default = %+v", got)
	}
	var upd spec.Application
	a.mustJSON("PATCH", "/applications/"+app.ID, map[string]any{"description": "call credentials"}, http.StatusOK, &upd)
	if upd.Description != "call credentials" || upd.ProjectID != "default" {
		t.Errorf("patched %+v", upd)
	}
	if r := a.do("PATCH", "/applications/"+app.ID, map[string]any{"project": nil}); r.status != http.StatusBadRequest {
		t.Errorf("changing the owner: status %d", r.status)
	}
	a.mustJSON("DELETE", "/applications/"+mine.ID, nil, http.StatusNoContent, nil)
	if r := a.do("GET", "/applications/"+mine.ID, nil); r.status != http.StatusNotFound {
		t.Errorf("deleted application: status %d", r.status)
	}
}

type listResultOf[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func TestCredentials(t *testing.T) {
	a := newTestAPI(t)
	var app spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "caller", "project": "default"}, http.StatusCreated, &app)
	base := "/applications/" + app.ID + "/credentials"

	rev := a.revision()
	created := map[string]spec.Credential{}
	for _, body := range []map[string]any{
		{"type": "key-auth"},
		{"type": "basic-auth", "username": "alice"},
		{"type": "hmac-auth", "access_key": "2e4d0bbad47e3b5e3a0c", "secret_key": "815ba6d666d58ef1e79b"},
		{"type": "jwt-auth", "key": "user-key"},
		{"type": "oauth2"},
	} {
		var c spec.Credential
		a.mustJSON("POST", base, body, http.StatusCreated, &c)
		created[c.Type] = c
	}
	if next := a.revision(); next <= rev {
		t.Errorf("revision of default %d after creating credentials, was %d: gateways were not told", next, rev)
	}
	secrets := []string{created["key-auth"].Key, created["basic-auth"].Password, "815ba6d666d58ef1e79b",
		created["jwt-auth"].Secret, created["oauth2"].ClientSecret}
	for i, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %d not shown on create: %+v", i, created)
		}
	}
	if created["jwt-auth"].Algorithm != "HS256" || created["oauth2"].ClientID == "" {
		t.Errorf("defaults not filled: %+v %+v", created["jwt-auth"], created["oauth2"])
	}

	// Never again: not in the list, not in a read, not in the audit log.
	for _, path := range []string{base, base + "/" + created["hmac-auth"].ID, "/audit-events?page_size=100", "/applications"} {
		r := a.do("GET", path, nil)
		for _, s := range secrets {
			if strings.Contains(string(r.body), s) {
				t.Errorf("GET %s shows a secret: %s", path, r.body)
			}
		}
	}
	var list listResultOf[spec.Credential]
	a.mustJSON("GET", base, nil, http.StatusOK, &list)
	if list.Total != 5 || list.Items[2].AccessKey != "2e4d0bbad47e3b5e3a0c" || list.Items[1].Username != "alice" {
		t.Errorf("list = %+v", list)
	}

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no type", map[string]any{}, "type"},
		{"short password", map[string]any{"type": "basic-auth", "username": "bob", "password": "x"}, "password"},
		{"foreign field", map[string]any{"type": "key-auth", "secret": "xxxxxxxxxx"}, "secret"},
		{"bad algorithm", map[string]any{"type": "jwt-auth", "algorithm": "none"}, "algorithm"},
		{"rs256 not pem", map[string]any{"type": "jwt-auth", "algorithm": "RS256", "secret": "not a key"}, "secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", base, tc.body)
			if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
				t.Errorf("status %d fields %v, want 400 naming %s", r.status, r.fields(t), tc.field)
			}
		})
	}
	if r := a.do("POST", base, map[string]any{"type": "basic-auth", "username": "alice"}); r.status != http.StatusConflict {
		t.Errorf("same username twice in one application: status %d", r.status)
	}
	var other spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "other"}, http.StatusCreated, &other)
	if r := a.do("POST", "/applications/"+other.ID+"/credentials", map[string]any{"type": "basic-auth", "username": "alice"}); r.status != http.StatusConflict {
		t.Errorf("a username of another application: status %d", r.status)
	}

	t.Run("rotate", func(t *testing.T) {
		old := created["hmac-auth"]
		var next spec.Credential
		a.mustJSON("POST", base+"/"+old.ID+"/rotate", map[string]any{"overlap": 60}, http.StatusCreated, &next)
		if next.ID == old.ID || next.AccessKey != old.AccessKey || next.SecretKey == "" || next.SecretKey == "815ba6d666d58ef1e79b" {
			t.Errorf("rotated %+v", next)
		}
		var was spec.Credential
		a.mustJSON("GET", base+"/"+old.ID, nil, http.StatusOK, &was)
		if was.ExpiresAt.IsZero() {
			t.Errorf("old credential has no expires_at after rotation")
		}
		var cleared spec.Credential
		a.mustJSON("PATCH", base+"/"+old.ID, map[string]any{"expires_at": nil}, http.StatusOK, &cleared)
		if !cleared.ExpiresAt.IsZero() {
			t.Errorf("expires_at not cleared: %+v", cleared)
		}
		if r := a.do("POST", base+"/"+old.ID+"/rotate", map[string]any{"overlap": -1}); r.status != http.StatusBadRequest {
			t.Errorf("negative overlap: status %d", r.status)
		}
		a.mustJSON("DELETE", base+"/"+next.ID, nil, http.StatusNoContent, nil)
		if r := a.do("GET", base+"/"+next.ID, nil); r.status != http.StatusNotFound {
			t.Errorf("revoked credential: status %d", r.status)
		}
	})
}

func TestSubscriptions(t *testing.T) {
	a := newTestAPI(t)
	svc := a.createService("weather")
	var mine, proj spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "mine"}, http.StatusCreated, &mine)
	a.mustJSON("POST", "/applications", map[string]any{"name": "proj", "project": "default"}, http.StatusCreated, &proj)

	var sub spec.Subscription
	a.mustJSON("POST", "/subscriptions", map[string]any{"application": mine.ID, "service": svc.ID}, http.StatusCreated, &sub)
	if sub.State != spec.SubscriptionApproved || sub.ProjectID != "default" {
		t.Errorf("subscription %+v", sub)
	}
	if r := a.do("POST", "/subscriptions", map[string]any{"application": mine.ID, "service": svc.ID}); r.status != http.StatusConflict {
		t.Errorf("second subscription: status %d", r.status)
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"project application", map[string]any{"application": proj.ID, "service": svc.ID}, "application"},
		{"missing service", map[string]any{"application": mine.ID, "service": "nope"}, "service"},
		{"missing application", map[string]any{"application": "nope", "service": svc.ID}, "application"},
		{"empty", map[string]any{}, "application"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", "/subscriptions", tc.body)
			if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
				t.Errorf("status %d fields %v, want 400 naming %s", r.status, r.fields(t), tc.field)
			}
		})
	}
	var list listResultOf[spec.Subscription]
	a.mustJSON("GET", "/subscriptions?application="+mine.ID, nil, http.StatusOK, &list)
	if list.Total != 1 || list.Items[0].ID != sub.ID {
		t.Errorf("list = %+v", list)
	}
	a.mustJSON("GET", "/subscriptions/"+sub.ID, nil, http.StatusOK, nil)
	a.mustJSON("DELETE", "/subscriptions/"+sub.ID, nil, http.StatusNoContent, nil)
	if r := a.do("GET", "/subscriptions/"+sub.ID, nil); r.status != http.StatusNotFound {
		t.Errorf("after unsubscribing: status %d", r.status)
	}
}
