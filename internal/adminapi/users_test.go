package adminapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func TestUsersCRUD(t *testing.T) {
	a := newTestAPI(t)
	var created userCreated
	a.mustJSON("POST", "/users", map[string]any{"username": "ada", "display_name": "Ada L.", "email": "ada@example.com",
		"password": personPassword}, http.StatusCreated, &created)
	u := created.User
	if u.ID == "" || u.Role != rbac.User || !u.PasswordSet || u.Source != spec.UserLocal || u.DisplayName != "Ada L." || created.Invite != nil {
		t.Fatalf("created %+v", created)
	}
	a.logIn(t, "ada", personPassword)

	// By username or by id.
	for _, ref := range []string{"ada", u.ID} {
		var got spec.User
		a.mustJSON("GET", "/users/"+ref, nil, http.StatusOK, &got)
		if got.ID != u.ID {
			t.Errorf("GET /users/%s = %+v", ref, got)
		}
	}
	wantCode(t, "unknown user", a.do("GET", "/users/nobody", nil), http.StatusNotFound)

	var page struct {
		Items []spec.User
		Total int
	}
	a.mustJSON("GET", "/users?q=example.com", nil, http.StatusOK, &page)
	if page.Total != 1 || page.Items[0].Username != "ada" {
		t.Errorf("users matching example.com: %+v", page)
	}
	a.mustJSON("GET", "/users?page_size=1&page=2", nil, http.StatusOK, &page)
	if page.Total != 2 || len(page.Items) != 1 || page.Items[0].Username != "ada" {
		t.Errorf("second page of one: %+v", page)
	}

	var patched spec.User
	a.mustJSON("PATCH", "/users/ada", map[string]any{"display_name": "Ada Lovelace", "email": nil}, http.StatusOK, &patched)
	if patched.DisplayName != "Ada Lovelace" || patched.Email != "" || patched.Role != rbac.User || patched.Disabled {
		t.Errorf("patched %+v", patched)
	}
	a.mustJSON("PATCH", "/users/"+u.ID, map[string]any{"role": rbac.SuperAdmin}, http.StatusOK, &patched)
	if patched.Role != rbac.SuperAdmin {
		t.Errorf("promoted %+v", patched)
	}

	wantConflict(t, "same username", a.do("POST", "/users", map[string]any{"username": "ada"}), "already exists")
	wantCode(t, "delete", a.do("DELETE", "/users/ada", nil), http.StatusNoContent)
	wantCode(t, "deleted user", a.do("GET", "/users/ada", nil), http.StatusNotFound)
	wantCode(t, "delete again", a.do("DELETE", "/users/ada", nil), http.StatusNotFound)

	// No event holds a password or its hash.
	for _, action := range []string{"user.create", "user.update", "user.delete"} {
		ev := audits(t, a.store, action)
		if len(ev) == 0 {
			t.Errorf("no %s event", action)
		}
		for _, e := range ev {
			if strings.Contains(string(e.Detail), personPassword) || strings.Contains(string(e.Detail), "$2a$") {
				t.Errorf("%s event holds a secret: %s", action, e.Detail)
			}
		}
	}
}

func TestUserValidation(t *testing.T) {
	a := newTestAPI(t)
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"bad username", map[string]any{"username": "-ada"}, "username"},
		{"no username", map[string]any{}, "username"},
		{"unknown role", map[string]any{"username": "ada", "role": "admin"}, "role"},
		{"project role", map[string]any{"username": "ada", "role": rbac.Viewer}, "role"},
		{"bad email", map[string]any{"username": "ada", "email": "Ada <ada@example.com>"}, "email"},
		{"long display name", map[string]any{"username": "ada", "display_name": strings.Repeat("x", 129)}, "display_name"},
		{"weak password", map[string]any{"username": "ada", "password": "password123!"}, "password"},
		{"password with the username", map[string]any{"username": "ada-lovelace", "password": "I-am-Ada-Lovelace-1815"}, "password"},
		{"password and invite", map[string]any{"username": "ada", "password": personPassword, "invite": true}, "invite"},
		{"unknown field", map[string]any{"username": "ada", "admin": true}, "admin"},
		{"server's field", map[string]any{"username": "ada", "password_set": true}, "password_set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, a.do("POST", "/users", tt.body), tt.field)
		})
	}
	a.newPerson(t, "bob", "")
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"role", map[string]any{"role": "root"}, "role"},
		{"role removed", map[string]any{"role": nil}, "role"},
		{"email", map[string]any{"email": "nope"}, "email"},
		{"disabled", map[string]any{"disabled": "yes"}, "disabled"},
		{"username", map[string]any{"username": "robert"}, "username"},
	} {
		t.Run("patch "+tt.name, func(t *testing.T) {
			wantRefused(t, a.do("PATCH", "/users/bob", tt.body), tt.field)
		})
	}
	// Only a super_admin manages users.
	viewer := a.viewerToken(t)
	wantDenied(t, a.doToken(viewer, "GET", "/users", nil), rbac.UserRead)
	wantDenied(t, a.doToken(viewer, "GET", "/users/bob", nil), rbac.UserRead)
	wantDenied(t, a.doToken(viewer, "POST", "/users", map[string]any{"username": "eve"}), rbac.UserManage)
	wantDenied(t, a.doToken(viewer, "PATCH", "/users/viewer", map[string]any{"role": rbac.SuperAdmin}), rbac.UserManage)
	wantDenied(t, a.doToken(viewer, "DELETE", "/users/bob", nil), rbac.UserManage)
}

// TestDisablingStopsTokensAtOnce: a disabled user's session and personal
// access token are refused from the next request on; the sessions are
// gone for good, the token works again once the user is enabled.
func TestDisablingStopsTokensAtOnce(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "dan", "")
	session := a.logIn(t, "dan", personPassword)
	var pat spec.AccessToken
	a.decode(a.doToken(session, "POST", "/tokens", map[string]any{"name": "ci", "scope": "full"}), &pat)
	for _, tok := range []string{session, pat.Token} {
		wantCode(t, "before", a.doToken(tok, "GET", "/me", nil), http.StatusOK)
	}
	var u spec.User
	a.mustJSON("PATCH", "/users/dan", map[string]any{"disabled": true}, http.StatusOK, &u)
	if !u.Disabled {
		t.Fatalf("patched %+v", u)
	}
	for _, tok := range []string{session, pat.Token} {
		wantCode(t, "disabled", a.doToken(tok, "GET", "/me", nil), http.StatusUnauthorized)
	}
	if r := a.doToken("", "POST", "/auth/login", loginBody("dan", personPassword)); r.status != http.StatusForbidden {
		t.Errorf("login of a disabled user: %d %s", r.status, r.body)
	}
	ev := audits(t, a.store, "user.update")
	if len(ev) != 1 || !strings.Contains(string(ev[0].Detail), `"sessions_ended":1`) {
		t.Errorf("user.update events %+v", ev)
	}
	a.mustJSON("PATCH", "/users/dan", map[string]any{"disabled": false}, http.StatusOK, nil)
	wantCode(t, "token after enabling", a.doToken(pat.Token, "GET", "/me", nil), http.StatusOK)
	wantCode(t, "session after enabling", a.doToken(session, "GET", "/me", nil), http.StatusUnauthorized)
}

// TestLastSuperAdmin: the last enabled super_admin cannot be disabled,
// demoted or deleted, and nobody can disable or delete themselves.
func TestLastSuperAdmin(t *testing.T) {
	a := newTestAPI(t)
	wantConflict(t, "disable yourself", a.do("PATCH", "/users/admin", map[string]any{"disabled": true}), "yourself")
	wantConflict(t, "delete yourself", a.do("DELETE", "/users/admin", nil), "yourself")
	wantConflict(t, "demote the last", a.do("PATCH", "/users/admin", map[string]any{"role": rbac.User}), "last enabled super_admin")

	ada := a.newPerson(t, "ada", rbac.SuperAdmin)
	adaToken := a.logIn(t, "ada", personPassword)
	// Two: either may go.
	a.mustJSON("PATCH", "/users/ada", map[string]any{"disabled": true}, http.StatusOK, nil)
	// ada is disabled: admin is the last enabled one again.
	wantConflict(t, "demote the last enabled", a.do("PATCH", "/users/admin", map[string]any{"role": rbac.User}), "last enabled")
	a.mustJSON("PATCH", "/users/ada", map[string]any{"disabled": false}, http.StatusOK, nil)
	adaToken = a.logIn(t, "ada", personPassword) // disabling ended the old session
	r := a.doToken(adaToken, "PATCH", "/users/admin", map[string]any{"role": rbac.User})
	wantCode(t, "ada demotes admin", r, http.StatusOK)
	wantConflict(t, "ada demotes herself", a.doToken(adaToken, "PATCH", "/users/ada", map[string]any{"role": rbac.User}), "last enabled")
	wantConflict(t, "ada deletes herself", a.doToken(adaToken, "DELETE", "/users/"+ada.ID, nil), "yourself")
	// admin, a user now, is refused at once.
	wantDenied(t, a.do("GET", "/users", nil), rbac.UserRead)
	wantCode(t, "ada deletes admin", a.doToken(adaToken, "DELETE", "/users/admin", nil), http.StatusNoContent)
	n := 0
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.CountActiveSuperAdmins(context.Background())
		return err
	})
	if err != nil || n != 1 {
		t.Errorf("%d enabled super admins (%v), want 1", n, err)
	}
}
