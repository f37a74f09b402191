package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// personPassword passes the password policy; every person the people
// tests make has it unless a test says otherwise.
const personPassword = "Correct-Horse-Battery-9"

// newPerson makes a user through the API (as admin) with personPassword.
func (a *testAPI) newPerson(t *testing.T, name, role string) spec.User {
	t.Helper()
	var u userCreated
	a.mustJSON("POST", "/users", map[string]any{"username": name, "role": role, "password": personPassword}, http.StatusCreated, &u)
	if u.Invite != nil {
		t.Fatalf("a user made with a password got an invitation: %+v", u)
	}
	return u.User
}

// logIn answers a session token of name, failing the test unless the
// login succeeds.
func (a *testAPI) logIn(t *testing.T, name, pw string) string {
	t.Helper()
	var l loginResponse
	a.decode(a.doToken("", "POST", "/auth/login", loginBody(name, pw)), &l)
	return l.Token
}

// personIn makes a user, gives them role in project and logs them in.
func (a *testAPI) personIn(t *testing.T, name, project, role string) string {
	t.Helper()
	a.newPerson(t, name, "")
	if project != "" {
		a.mustJSON("PUT", "/projects/"+project+"/members/"+name, map[string]any{"role": role}, http.StatusOK, nil)
	}
	return a.logIn(t, name, personPassword)
}

// wantCode checks an answer's status.
func wantCode(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

// wantConflict checks a 409 whose detail says want.
func wantConflict(t *testing.T, what string, r response, want string) {
	t.Helper()
	wantCode(t, what, r, http.StatusConflict)
	if p := r.problem(t); !strings.Contains(p.Detail, want) {
		t.Errorf("%s: detail %q, want it to say %q", what, p.Detail, want)
	}
}

// newProject makes a project through the API.
func (a *testAPI) newProject(t *testing.T, id string) {
	t.Helper()
	a.mustJSON("POST", "/projects", map[string]any{"id": id}, http.StatusCreated, nil)
}
