package adminapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// linkTokens are the user's stored links of kind.
func linkTokens(t *testing.T, a *testAPI, userID, kind string) []store.Token {
	t.Helper()
	var out []store.Token
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		out, err = tx.ListTokens(context.Background(), userID, kind)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func accept(a *testAPI, token, pw string) response {
	return a.doToken("", "POST", "/auth/accept", map[string]any{"token": token, "password": pw})
}

// TestInviteAcceptLogin: a user made with an invitation has no password
// until the link is used; the link sets one (checked against the policy,
// which leaves the link usable) and works once.
func TestInviteAcceptLogin(t *testing.T) {
	a := newTestAPI(t)
	var created userCreated
	a.mustJSON("POST", "/users", map[string]any{"username": "ivy", "invite": true}, http.StatusCreated, &created)
	if created.PasswordSet || created.Invite == nil || created.Invite.Token == "" {
		t.Fatalf("created %+v", created)
	}
	if d := time.Until(created.Invite.ExpiresAt); d < inviteTTL-time.Minute || d > inviteTTL {
		t.Errorf("invitation expires in %v, want 7 days", d)
	}
	// Only its SHA-256 is kept.
	stored := linkTokens(t, a, created.ID, store.TokenInvite)
	if len(stored) != 1 || stored[0].Hash != tokenHash(created.Invite.Token) {
		t.Fatalf("stored invitations %+v", stored)
	}
	wantCode(t, "login before accepting", a.doToken("", "POST", "/auth/login", loginBody("ivy", personPassword)), http.StatusUnauthorized)
	// A link is not a bearer token.
	wantCode(t, "link as a bearer token", a.doToken(created.Invite.Token, "GET", "/me", nil), http.StatusUnauthorized)

	wantRefused(t, accept(a, created.Invite.Token, "ivy-is-my-name-ok"), "password")
	wantRefused(t, accept(a, created.Invite.Token, "short"), "password")
	wantRefused(t, accept(a, "", ""), "token")
	var u spec.User
	a.decode(accept(a, created.Invite.Token, personPassword), &u)
	if u.Username != "ivy" || !u.PasswordSet {
		t.Errorf("accepted %+v", u)
	}
	a.logIn(t, "ivy", personPassword)
	wantCode(t, "the link again", accept(a, created.Invite.Token, personPassword+"x"), http.StatusUnauthorized)

	ev := audits(t, a.store, "user.invite_accept")
	if len(ev) != 1 || ev[0].Actor != "ivy" {
		t.Errorf("invite_accept events %+v", ev)
	}
	for _, action := range []string{"user.create", "user.invite_accept", "auth.accept_failed"} {
		for _, e := range audits(t, a.store, action) {
			if strings.Contains(string(e.Detail), created.Invite.Token) || strings.Contains(string(e.Detail), personPassword) {
				t.Errorf("%s event holds a secret: %s", action, e.Detail)
			}
		}
	}
	// Ivy has a password now: an invitation is refused, a reset is the way.
	wantConflict(t, "invite with a password", a.do("POST", "/users/ivy/invite", nil), "reset link")
}

// TestReinvite: a new invitation replaces the earlier one.
func TestReinvite(t *testing.T) {
	a := newTestAPI(t)
	var created userCreated
	a.mustJSON("POST", "/users", map[string]any{"username": "jo"}, http.StatusCreated, &created)
	if created.Invite != nil || created.PasswordSet {
		t.Fatalf("created without password or invitation: %+v", created)
	}
	var first, second linkToken
	a.mustJSON("POST", "/users/jo/invite", nil, http.StatusCreated, &first)
	a.mustJSON("POST", "/users/"+created.ID+"/invite", nil, http.StatusCreated, &second)
	if first.Token == second.Token || first.Token == "" {
		t.Fatalf("invitations %+v %+v", first, second)
	}
	wantCode(t, "the earlier invitation", accept(a, first.Token, personPassword), http.StatusUnauthorized)
	wantCode(t, "the later invitation", accept(a, second.Token, personPassword), http.StatusOK)
	wantCode(t, "invite nobody", a.do("POST", "/users/nobody/invite", nil), http.StatusNotFound)
	wantDenied(t, a.doToken(a.viewerToken(t), "POST", "/users/jo/invite", nil), "user:manage")
}

// TestResetLink: an administrator makes a reset link; the old password
// works until it is used, then every session of the user ends.
func TestResetLink(t *testing.T) {
	a := newTestAPI(t)
	a.newPerson(t, "rex", "")
	session := a.logIn(t, "rex", personPassword)
	for _, body := range []any{nil, map[string]any{}} {
		var res passwordResult
		a.mustJSON("POST", "/users/rex/password", body, http.StatusOK, &res)
		if res.Token == "" || res.Username != "rex" {
			t.Fatalf("reset %+v", res)
		}
		if d := time.Until(res.ExpiresAt); d < resetTTL-time.Minute || d > resetTTL {
			t.Errorf("reset link expires in %v, want 24 hours", d)
		}
		wantCode(t, "session while a link waits", a.doToken(session, "GET", "/me", nil), http.StatusOK)
		a.logIn(t, "rex", personPassword)
		if body == nil {
			continue
		}
		const newPW = "Staple-Battery-Horse-42"
		a.decode(accept(a, res.Token, newPW), &spec.User{})
		wantCode(t, "session after the reset", a.doToken(session, "GET", "/me", nil), http.StatusUnauthorized)
		wantCode(t, "old password", a.doToken("", "POST", "/auth/login", loginBody("rex", personPassword)), http.StatusUnauthorized)
		a.logIn(t, "rex", newPW)
	}
	if n := len(audits(t, a.store, "user.password_reset")); n != 1 {
		t.Errorf("%d user.password_reset events, want 1", n)
	}
	wantRefused(t, a.do("POST", "/users/rex/password", map[string]any{"passwd": "x"}), "passwd")
}

// TestAdminSetsPassword: a password set by an administrator is checked
// against the policy and ends the user's sessions and pending links.
func TestAdminSetsPassword(t *testing.T) {
	a := newTestAPI(t)
	u := a.newPerson(t, "sue", "")
	session := a.logIn(t, "sue", personPassword)
	var link passwordResult
	a.mustJSON("POST", "/users/sue/password", nil, http.StatusOK, &link)

	wantRefused(t, a.do("POST", "/users/sue/password", map[string]any{"password": "aaaaaaaaaaaaaaaa"}), "password")
	var res passwordResult
	a.mustJSON("POST", "/users/sue/password", map[string]any{"password": "Another-Good-Passphrase"}, http.StatusOK, &res)
	if res.SessionsEnded != 1 || res.Token != "" {
		t.Errorf("set %+v", res)
	}
	wantCode(t, "session", a.doToken(session, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "pending reset link", accept(a, link.Token, personPassword), http.StatusUnauthorized)
	if n := len(linkTokens(t, a, u.ID, store.TokenReset)); n != 0 {
		t.Errorf("%d reset links left", n)
	}
	a.logIn(t, "sue", "Another-Good-Passphrase")

	// The admin setting their own keeps the session they sent it with.
	other := a.logIn(t, "admin", adminPassword)
	a.mustJSON("POST", "/users/admin/password", map[string]any{"password": "Root-Keepers-Passphrase"}, http.StatusOK, &res)
	if res.SessionsEnded != 1 {
		t.Errorf("own password: %+v", res)
	}
	wantCode(t, "own other session", a.doToken(other, "GET", "/me", nil), http.StatusUnauthorized)
	wantCode(t, "own presented session", a.do("GET", "/me", nil), http.StatusOK)
}

// TestAcceptUnknownTokenThrottled: unknown links are failed logins of the
// client address, audited; at the client threshold the address is locked
// out and even a good link waits.
func TestAcceptUnknownTokenThrottled(t *testing.T) {
	a := newTestAPI(t)
	var created userCreated
	a.mustJSON("POST", "/users", map[string]any{"username": "kim", "invite": true}, http.StatusCreated, &created)
	for i := range clientPolicy.threshold {
		wantCode(t, "unknown link", accept(a, "guess-"+string(rune('a'+i)), personPassword), http.StatusUnauthorized)
	}
	r := accept(a, created.Invite.Token, personPassword)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("a good link from a locked address: %d %s", r.status, r.body)
	}
	if n := len(audits(t, a.store, "auth.accept_failed")); n != clientPolicy.threshold {
		t.Errorf("%d auth.accept_failed events, want %d", n, clientPolicy.threshold)
	}
	lock := audits(t, a.store, "auth.lockout")
	if len(lock) != 1 || lock[0].Resource != "/clients/127.0.0.1" || lock[0].Actor != "anonymous" {
		t.Errorf("lockout events %+v", lock)
	}
}
