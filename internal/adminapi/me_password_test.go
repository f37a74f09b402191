package adminapi

import (
	"net/http"
	"testing"
)

// TestChangeOwnPassword: the current password is checked, the new one
// against the policy; the other sessions end, the presented one and the
// personal access tokens stay.
func TestChangeOwnPassword(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "mia", "")
	presented := a.logIn(t, "mia", personPassword)
	other := a.logIn(t, "mia", personPassword)
	var pat struct{ Token string }
	a.decode(a.doToken(presented, "POST", "/tokens", map[string]any{"name": "ci", "scope": "full"}), &pat)
	change := func(current, next string) response {
		return a.doToken(presented, "POST", "/me/password", map[string]any{"current_password": current, "new_password": next})
	}
	wantRefused(t, change(personPassword, "short"), "new_password")
	wantRefused(t, change(personPassword, "I-am-mia-the-user"), "new_password")
	wantRefused(t, change(personPassword, personPassword), "new_password")
	wantRefused(t, change("", "Fresh-Passphrase-2027"), "current_password")
	wantRefused(t, a.doToken(presented, "POST", "/me/password", map[string]any{"password": "x"}), "password")
	wantRefused(t, change("Wrong-Passphrase-1", "Fresh-Passphrase-2027"), "current_password")
	if n := len(audits(t, a.store, "auth.login_failed")); n != 1 {
		t.Errorf("%d auth.login_failed events after a wrong current password, want 1", n)
	}

	var res passwordResult
	r := change(personPassword, "Fresh-Passphrase-2027")
	a.decode(r, &res)
	if res.SessionsEnded != 1 || res.Username != "mia" || res.Token != "" {
		t.Errorf("changed %+v", res)
	}
	wantCode(t, "presented session", a.doToken(presented, "GET", "/me", nil), http.StatusOK)
	wantCode(t, "other session", a.doToken(other, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "personal access token", a.doToken(pat.Token, "GET", "/me", nil), http.StatusOK)
	wantCode(t, "old password", a.doToken("", "POST", "/auth/login", loginBody("mia", personPassword)), http.StatusUnauthorized)
	a.logIn(t, "mia", "Fresh-Passphrase-2027")
	if ev := audits(t, a.store, "user.password_change"); len(ev) != 1 || ev[0].Actor != "mia" {
		t.Errorf("password_change events %+v", ev)
	}
	// A read-only token cannot change it.
	var ro struct{ Token string }
	a.decode(a.doToken(presented, "POST", "/tokens", map[string]any{"name": "ro", "scope": "read"}), &ro)
	wantDenied(t, a.doToken(ro.Token, "POST", "/me/password", map[string]any{"current_password": "Fresh-Passphrase-2027", "new_password": "Fresher-Passphrase-2028"}), "session:self")
}

// TestChangeOwnPasswordLocksOut: wrong current passwords count as failed
// logins of the username: five lock it, and the sixth attempt is 429 even
// with the right password, for the change and for a login alike.
func TestChangeOwnPasswordLocksOut(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "max", "")
	tok := a.logIn(t, "max", personPassword)
	checks := countPasswordChecks(t)
	body := func(current string) map[string]any {
		return map[string]any{"current_password": current, "new_password": "Fresh-Passphrase-2027"}
	}
	for range userPolicy.threshold {
		wantRefused(t, a.doToken(tok, "POST", "/me/password", body("Wrong-Passphrase-1")), "current_password")
	}
	before := checks.Load()
	r := a.doToken(tok, "POST", "/me/password", body(personPassword))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("change while locked: %d %s", r.status, r.body)
	}
	if checks.Load() != before {
		t.Error("a locked change ran bcrypt")
	}
	wantCode(t, "login while locked", a.doToken("", "POST", "/auth/login", loginBody("max", personPassword)), http.StatusTooManyRequests)
	if lock := audits(t, a.store, "auth.lockout"); len(lock) != 1 || lock[0].Resource != "/users/max" {
		t.Errorf("lockout events %+v", lock)
	}
	// The session itself still works: the lockout is about passwords.
	wantCode(t, "session while locked", a.doToken(tok, "GET", "/me", nil), http.StatusOK)
}
