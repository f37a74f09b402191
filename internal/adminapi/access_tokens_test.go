package adminapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

func TestAccessTokens(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "tia", "")
	session := a.logIn(t, "tia", personPassword)
	as := func(method, path string, body any) response { return a.doToken(session, method, path, body) }

	var ro spec.AccessToken
	a.decode(as("POST", "/tokens", map[string]any{"name": "ci", "scope": "read"}), &ro)
	if !strings.HasPrefix(ro.Token, patPrefix) || len(ro.Token) < len(patPrefix)+20 || ro.Scope != spec.ScopeRead || ro.ID == "" {
		t.Fatalf("created %+v", ro)
	}
	if d := time.Until(ro.ExpiresAt); d < 89*24*time.Hour || d > 90*24*time.Hour {
		t.Errorf("default expiry in %v, want 90 days", d)
	}
	var full spec.AccessToken
	a.decode(as("POST", "/tokens", map[string]any{"name": "deploy", "scope": "full", "expires_in_days": 1}), &full)
	if d := time.Until(full.ExpiresAt); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("expiry in %v, want a day", d)
	}

	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"no scope", map[string]any{"name": "x"}, "scope"},
		{"bad scope", map[string]any{"name": "x", "scope": "admin"}, "scope"},
		{"no name", map[string]any{"scope": "read"}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 65), "scope": "read"}, "name"},
		{"zero days", map[string]any{"name": "x", "scope": "read", "expires_in_days": 0}, "expires_in_days"},
		{"too many days", map[string]any{"name": "x", "scope": "read", "expires_in_days": 367}, "expires_in_days"},
		{"days as text", map[string]any{"name": "x", "scope": "read", "expires_in_days": "7"}, "expires_in_days"},
		{"server's field", map[string]any{"name": "x", "scope": "read", "token": "pat_mine"}, "token"},
	} {
		t.Run(tt.name, func(t *testing.T) { wantRefused(t, as("POST", "/tokens", tt.body), tt.field) })
	}
	wantConflict(t, "same name", as("POST", "/tokens", map[string]any{"name": "ci", "scope": "full"}), "already have a token named")
	// Another user may use the name.
	wantCode(t, "admin's ci", a.do("POST", "/tokens", map[string]any{"name": "ci", "scope": "read"}), http.StatusCreated)

	// Listed and read without the token text.
	r := as("GET", "/tokens", nil)
	var page struct {
		Items []spec.AccessToken
		Total int
	}
	a.decode(r, &page)
	if page.Total != 2 || page.Items[0].Name != "deploy" || page.Items[1].Name != "ci" {
		t.Errorf("tokens %+v", page)
	}
	if strings.Contains(string(r.body), ro.Token) || strings.Contains(string(r.body), `"token"`) {
		t.Errorf("the list shows token text: %s", r.body)
	}
	var got spec.AccessToken
	a.decode(as("GET", "/tokens/"+ro.ID, nil), &got)
	if got.Name != "ci" || got.Token != "" {
		t.Errorf("GET token %+v", got)
	}
	wantCode(t, "another user's token", a.do("GET", "/tokens/"+ro.ID, nil), http.StatusNotFound)
	wantCode(t, "revoke another user's token", a.do("DELETE", "/tokens/"+ro.ID, nil), http.StatusNotFound)

	// A read-only token reads, and is refused every change naming the
	// permission, creating tokens included.
	wantCode(t, "read-only GET /me", a.doToken(ro.Token, "GET", "/me", nil), http.StatusOK)
	wantCode(t, "read-only GET /tokens", a.doToken(ro.Token, "GET", "/tokens", nil), http.StatusOK)
	wantDenied(t, a.doToken(ro.Token, "POST", "/tokens", map[string]any{"name": "escalate", "scope": "full"}), rbac.SessionSelf)
	wantDenied(t, a.doToken(ro.Token, "DELETE", "/tokens/"+full.ID, nil), rbac.SessionSelf)
	var me spec.Identity
	a.decode(a.doToken(ro.Token, "GET", "/me", nil), &me)
	if me.Scope != spec.ScopeRead {
		t.Errorf("read-only token's /me scope %q", me.Scope)
	}
	// A full one may do what its user may.
	wantCode(t, "full token makes a token", a.doToken(full.Token, "POST", "/tokens", map[string]any{"name": "more", "scope": "read"}), http.StatusCreated)
	wantDenied(t, a.doToken(full.Token, "GET", "/users", nil), rbac.UserRead)

	// The admin sees and revokes anyone's.
	a.mustJSON("GET", "/users/tia/tokens", nil, http.StatusOK, &page)
	if page.Total != 3 {
		t.Errorf("admin lists %d of tia's tokens, want 3", page.Total)
	}
	wantDenied(t, as("GET", "/users/tia/tokens", nil), rbac.UserRead)
	wantDenied(t, as("DELETE", "/users/tia/tokens/"+full.ID, nil), rbac.UserManage)
	wantCode(t, "admin revokes", a.do("DELETE", "/users/tia/tokens/"+full.ID, nil), http.StatusNoContent)
	wantCode(t, "revoked token", a.doToken(full.Token, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "revoke again", a.do("DELETE", "/users/tia/tokens/"+full.ID, nil), http.StatusNotFound)

	wantCode(t, "own revoke", as("DELETE", "/tokens/"+ro.ID, nil), http.StatusNoContent)
	wantCode(t, "revoked read-only token", a.doToken(ro.Token, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "revoked token read", as("GET", "/tokens/"+ro.ID, nil), http.StatusNotFound)
	if n := len(audits(t, a.store, "token.revoke")); n != 2 {
		t.Errorf("%d token.revoke events, want 2", n)
	}
	for _, e := range audits(t, a.store, "token.create") {
		if strings.Contains(string(e.Detail), patPrefix) {
			t.Errorf("token.create event holds the token: %s", e.Detail)
		}
	}
}

func TestSessions(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "sam", "")
	first := a.logIn(t, "sam", personPassword)
	second := a.logIn(t, "sam", personPassword)
	var page struct {
		Items []spec.Session
		Total int
	}
	a.decode(a.doToken(first, "GET", "/me/sessions", nil), &page)
	if page.Total != 2 {
		t.Fatalf("sessions %+v", page)
	}
	var current, other spec.Session
	for _, s := range page.Items {
		if s.Current {
			current = s
		} else {
			other = s
		}
	}
	if current.ID == "" || other.ID == "" || current.Client != "127.0.0.1" || current.ExpiresAt.IsZero() {
		t.Fatalf("one current and one other session expected: %+v", page.Items)
	}
	wantCode(t, "end the other", a.doToken(first, "DELETE", "/me/sessions/"+other.ID, nil), http.StatusNoContent)
	wantCode(t, "ended session", a.doToken(second, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "end it again", a.doToken(first, "DELETE", "/me/sessions/"+other.ID, nil), http.StatusNotFound)

	// The admin's view: no session of sam's is the admin's current one.
	a.mustJSON("GET", "/users/sam/sessions", nil, http.StatusOK, &page)
	if page.Total != 1 || page.Items[0].Current || page.Items[0].ID != current.ID {
		t.Errorf("admin's view %+v", page)
	}
	// Nobody else's sessions through /me.
	wantCode(t, "admin ends sam's through /me", a.do("DELETE", "/me/sessions/"+current.ID, nil), http.StatusNotFound)
	wantDenied(t, a.doToken(first, "GET", "/users/sam/sessions", nil), rbac.UserRead)
	wantDenied(t, a.doToken(first, "DELETE", "/users/sam/sessions/"+current.ID, nil), rbac.UserManage)
	wantCode(t, "admin ends sam's", a.do("DELETE", "/users/sam/sessions/"+current.ID, nil), http.StatusNoContent)
	wantCode(t, "ended by the admin", a.doToken(first, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "unknown user", a.do("GET", "/users/nobody/sessions", nil), http.StatusNotFound)

	// Ending the presented session is a logout.
	third := a.logIn(t, "sam", personPassword)
	a.decode(a.doToken(third, "GET", "/me/sessions", nil), &page)
	wantCode(t, "end own current", a.doToken(third, "DELETE", "/me/sessions/"+page.Items[0].ID, nil), http.StatusNoContent)
	wantCode(t, "after ending own current", a.doToken(third, "GET", "/me", nil), http.StatusUnauthorized)
}
