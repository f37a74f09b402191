package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func alice(groups ...string) map[string]any {
	return map[string]any{"sub": "u-1001", "preferred_username": "alice", "email": "alice@example.com", "name": "Alice Liddell",
		"groups": groups}
}

// grants lists what /me says of projects as project=role.
func grants(me spec.Identity) []string {
	var out []string
	for _, p := range me.Projects {
		out = append(out, p.Project+"="+p.Role)
	}
	return out
}

// TestOIDCSignIn: a first sign-in creates the user (source oidc) with the
// roles its groups map to and opens a console session; a second one,
// with other groups, changes them to exactly the mapped ones.
func TestOIDCSignIn(t *testing.T) {
	a := newSSOAPI(t)
	b := newBrowser(t)
	a.op.signInAs(alice("portico-admins", "team-a", "team-b", "shop-admins", "unmapped"))

	start := b.get(a.url + Prefix + oidcStartPath + "?next=" + url.QueryEscape("/p/shop/services"))
	if start.status != http.StatusFound {
		t.Fatalf("start: %d %s", start.status, start.body)
	}
	ck := cookie(start, oidcCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/api/v1/auth/oidc/" || ck.MaxAge != 600 {
		t.Fatalf("flow cookie = %+v, want HttpOnly, SameSite=Lax, Path=/api/v1/auth/oidc/, Max-Age=600", ck)
	}
	if strings.Contains(ck.Value, "p/shop") {
		t.Errorf("the flow cookie shows its content: %s", ck.Value)
	}
	auth := b.get(start.header.Get("Location"))
	q := a.op.lastAuth
	if q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" ||
		!slices.Equal(strings.Fields(q.Get("scope")), []string{"openid", "profile", "email", "groups"}) ||
		q.Get("redirect_uri") != a.url+Prefix+oidcCallbackPath {
		t.Fatalf("authorization request: %v", q)
	}
	r := b.get(auth.header.Get("Location"))
	if r.status != http.StatusFound || r.header.Get("Location") != "/p/shop/services" {
		t.Fatalf("callback: %d Location %q: %s", r.status, r.header.Get("Location"), r.body)
	}
	sess := cookie(r, SessionCookie)
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/ (not Secure over http)", sess)
	}
	if c := cookie(r, oidcCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("the callback left the flow cookie: %+v", c)
	}

	me := b.me(a)
	if me.Username != "alice" || me.Source != spec.UserOIDC || me.Role != rbac.SuperAdmin || me.PasswordSet ||
		me.Email != "alice@example.com" || me.DisplayName != "Alice Liddell" {
		t.Fatalf("/me = %+v", me.User)
	}
	// team-a comes first for default; "gone" is no project and is skipped.
	if got := grants(me); !slices.Equal(got, []string{"default=api_provider", "shop=project_admin"}) {
		t.Fatalf("projects = %v", got)
	}
	evs := audits(t, a.store, "auth.login")
	last := evs[0]
	var detail map[string]string
	_ = json.Unmarshal(last.Detail, &detail)
	if last.Actor != "alice" || detail["method"] != "oidc" || detail["username"] != "alice" || detail["client"] == "" {
		t.Errorf("auth.login event = %+v %s", last, last.Detail)
	}
	if n := len(audits(t, a.store, "user.create")); n != 1 {
		t.Errorf("%d user.create events, want 1", n)
	}

	// Second sign-in: no longer an admin, team-b only (and shop-admins).
	b2 := newBrowser(t)
	a.op.signInAs(alice("team-b", "shop-admins"))
	if r := b2.signIn(a, ""); r.status != http.StatusFound || r.header.Get("Location") != "/" {
		t.Fatalf("second sign-in: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	me = b2.me(a)
	if me.Role != rbac.User || !slices.Equal(grants(me), []string{"default=viewer", "shop=project_admin"}) {
		t.Fatalf("after the second sign-in: role %s, projects %v", me.Role, grants(me))
	}
	// Groups gone: memberships gone.
	a.op.signInAs(alice())
	b3 := newBrowser(t)
	b3.signIn(a, "")
	if me = b3.me(a); me.Role != rbac.User || len(me.Projects) != 0 {
		t.Fatalf("without groups: role %s, projects %v", me.Role, grants(me))
	}
	if n := len(audits(t, a.store, "member.delete")); n != 2 {
		t.Errorf("%d member.delete events, want 2", n)
	}
	// The first browser's session is still its own.
	if me := b.me(a); me.Username != "alice" {
		t.Errorf("first session: %+v", me.User)
	}
	// No password: no local login.
	if r := a.doToken("", "POST", "/auth/login", loginBody("alice", "anything")); r.status != http.StatusUnauthorized {
		t.Errorf("local login of an OIDC user: %d %s", r.status, r.body)
	}
}

// TestOIDCGroupsFromUserinfo: a provider that keeps groups out of its ID
// tokens is asked at its userinfo endpoint.
func TestOIDCGroupsFromUserinfo(t *testing.T) {
	a := newSSOAPI(t)
	a.op.userinfoOnly = []string{"groups", "preferred_username"}
	a.op.signInAs(alice("shop-admins"))
	b := newBrowser(t)
	if r := b.signIn(a, ""); r.status != http.StatusFound {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	if me := b.me(a); me.Username != "alice" || !slices.Equal(grants(me), []string{"shop=project_admin"}) {
		t.Fatalf("/me: %s %v", me.Username, grants(me))
	}
}

// failed counts auth.login_failed events of method oidc with reason.
func failed(t *testing.T, a *ssoAPI, reason string) int {
	n := 0
	for _, e := range audits(t, a.store, "auth.login_failed") {
		var d map[string]string
		_ = json.Unmarshal(e.Detail, &d)
		if d["method"] == "oidc" && d["reason"] == reason {
			n++
		}
	}
	return n
}

// TestOIDCRefusals: every way a callback is refused, each audited, none
// leaving a user or a session behind.
func TestOIDCRefusals(t *testing.T) {
	a := newSSOAPI(t)
	expect := func(t *testing.T, r response, status int, reason, detail string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
		if p := r.problem(t); !strings.Contains(strings.ToLower(p.Detail+fieldList(p.Errors)), detail) {
			t.Errorf("problem %+v does not say %q", p, detail)
		}
		if cookie(r, SessionCookie) != nil {
			t.Errorf("a refused sign-in set the session cookie")
		}
		if failed(t, a, reason) == 0 {
			t.Errorf("no auth.login_failed event with reason %q", reason)
		}
	}
	withQuery := func(raw string, f func(url.Values)) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		f(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	a.op.signInAs(alice())

	t.Run("wrong state", func(t *testing.T) {
		b := newBrowser(t)
		cb := withQuery(b.start(a, ""), func(q url.Values) { q.Set("state", "forged") })
		expect(t, b.get(cb), http.StatusBadRequest, "state", "does not match")
	})
	t.Run("missing state cookie", func(t *testing.T) {
		cb := newBrowser(t).start(a, "")
		expect(t, newBrowser(t).get(cb), http.StatusBadRequest, "state", "cookie is missing")
	})
	t.Run("forged state cookie", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.start(a, "")
		u, _ := url.Parse(a.url + Prefix + "/auth/oidc/")
		ck := b.client.Jar.Cookies(u)[0]
		ck.Value, ck.Path = ck.Value[:len(ck.Value)-4]+"AAAA", "/api/v1/auth/oidc/"
		b.client.Jar.SetCookies(u, []*http.Cookie{ck})
		expect(t, b.get(cb), http.StatusBadRequest, "state", "not one this server made")
	})
	t.Run("callback replayed", func(t *testing.T) {
		a.op.signInAs(map[string]any{"sub": "u-3003", "preferred_username": "carol"})
		defer a.op.signInAs(alice())
		b := newBrowser(t)
		cb := b.start(a, "")
		if r := b.get(cb); r.status != http.StatusFound {
			t.Fatalf("first callback: %d %s", r.status, r.body)
		}
		expect(t, b.get(cb), http.StatusBadRequest, "state", "cookie is missing")
	})
	t.Run("flow too old", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.start(a, "")
		a.clk.advance(11 * time.Minute)
		defer a.clk.advance(-11 * time.Minute)
		expect(t, b.get(cb), http.StatusBadRequest, "state", "more than 10m0s ago")
	})
	t.Run("another issuer", func(t *testing.T) {
		b := newBrowser(t)
		cb := withQuery(b.start(a, ""), func(q url.Values) { q.Set("iss", "https://evil.example") })
		expect(t, b.get(cb), http.StatusBadRequest, "issuer", "not the configured provider")
	})
	t.Run("provider refused", func(t *testing.T) {
		b := newBrowser(t)
		cb := withQuery(b.start(a, ""), func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "the user said no")
		})
		expect(t, b.get(cb), http.StatusUnauthorized, "provider: access_denied", "the user said no")
	})
	t.Run("code refused", func(t *testing.T) {
		b := newBrowser(t)
		cb := withQuery(b.start(a, ""), func(q url.Values) { q.Set("code", "not-a-code") })
		expect(t, b.get(cb), http.StatusUnauthorized, "code", "invalid_grant")
	})
	for _, tt := range []struct {
		name, reason, detail string
		tweak                func(map[string]any)
	}{
		{"expired ID token", "id_token expired", "expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }},
		{"wrong nonce", "nonce", "nonce", func(c map[string]any) { c["nonce"] = "replayed-nonce" }},
		{"wrong audience", "id_token", "audience", func(c map[string]any) { c["aud"] = "another-client" }},
		{"another issuer in the token", "id_token", "different provider", func(c map[string]any) { c["iss"] = "https://evil.example" }},
		{"issued to another party", "azp", "issued to", func(c map[string]any) {
			c["aud"], c["azp"] = []string{"portico-console", "other"}, "other"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.op.signInAs(alice())
			a.op.setTweak(tt.tweak)
			defer a.op.setTweak(nil)
			expect(t, newBrowser(t).signIn(a, ""), http.StatusUnauthorized, tt.reason, tt.detail)
		})
	}
	if _, ok := a.userByName("alice"); ok {
		t.Fatal("a refused sign-in created the user")
	}

	t.Run("open redirect", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/api/v1/me"} {
			r := newBrowser(t).get(a.url + Prefix + oidcStartPath + "?next=" + url.QueryEscape(next))
			if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "next") || cookie(r, oidcCookie) != nil {
				t.Errorf("next=%s: %d %s", next, r.status, r.body)
			}
		}
	})
}

// TestOIDCUsernameClash: the provider's user named like a local account
// is refused, and the local account is untouched.
func TestOIDCUsernameClash(t *testing.T) {
	a := newSSOAPI(t)
	hash, err := HashPassword("bob-password-1")
	if err != nil {
		t.Fatal(err)
	}
	err = a.store.Tx(context.Background(), func(tx store.Tx) error {
		return tx.CreateUser(context.Background(), &spec.User{Username: "bob", Role: rbac.User}, hash)
	})
	if err != nil {
		t.Fatal(err)
	}
	a.op.signInAs(map[string]any{"sub": "u-2002", "preferred_username": "bob", "groups": []string{"portico-admins"}})
	r := newBrowser(t).signIn(a, "")
	if r.status != http.StatusConflict || cookie(r, SessionCookie) != nil || failed(t, a, "username taken") != 1 {
		t.Fatalf("clash: %d %s", r.status, r.body)
	}
	if u, _ := a.userByName("bob"); u.Source != spec.UserLocal || u.Role != rbac.User {
		t.Fatalf("the local bob became %+v", u)
	}
	if r := a.doToken("", "POST", "/auth/login", loginBody("bob", "bob-password-1")); r.status != http.StatusOK {
		t.Fatalf("bob's own login: %d %s", r.status, r.body)
	}
}

// TestOIDCDisabledUser: a disabled OIDC user is refused at the callback.
func TestOIDCDisabledUser(t *testing.T) {
	a := newSSOAPI(t)
	a.op.signInAs(alice("team-a"))
	if r := newBrowser(t).signIn(a, ""); r.status != http.StatusFound {
		t.Fatalf("first sign-in: %d %s", r.status, r.body)
	}
	u, _ := a.userByName("alice")
	u.Disabled = true
	if err := a.store.Tx(context.Background(), func(tx store.Tx) error { return tx.UpdateUser(context.Background(), &u) }); err != nil {
		t.Fatal(err)
	}
	r := newBrowser(t).signIn(a, "")
	if r.status != http.StatusForbidden || cookie(r, SessionCookie) != nil || failed(t, a, "disabled") != 1 {
		t.Fatalf("disabled user: %d %s", r.status, r.body)
	}
	if p := r.problem(t); !strings.Contains(p.Detail, "disabled") {
		t.Errorf("problem: %+v", p)
	}
}
