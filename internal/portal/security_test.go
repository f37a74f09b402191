package portal

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/webpage"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"/portal/apps", "/portal/apps"},
		{"/portal/apis/x?try=op-a", "/portal/apis/x?try=op-a"},
		{"/portal", "/portal"},
		{"/portal/", "/portal/"},
		{"", home},
		{"/", home},                      // the console, not the portal
		{"/users", home},                 // another page of the admin address
		{"/portalx", home},               // not under /portal/
		{"//evil.example/portal/", home}, // another origin
		{"/\\evil.example", home},        // read as // by browsers
		{"https://evil.example/", home},  // absolute
		{"/portal/../users", home},       // resolved by the browser to /users
		{"/portal/./apps", home},         // dot segments
		{"/portal/%2e%2e/users", home},   // encoded dots
		{"/portal/%2F%2Fevil.example", home},
		{"/portal/\t/evil", home}, // browsers drop TAB
		{"/portal/a\r\nLocation: x", home},
		{"/portal/a#frag", home},
		{"/portal/@evil", home},
		{"/portal/a?b=%2F", "/portal/a?b=%2F"}, // an escaped slash in the query is harmless
		{"/portal/%zz", home},
		{"/portal/" + strings.Repeat("a", webpage.MaxRedirect), home},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	f := newFixture(t, Options{})
	for _, next := range []string{"https://evil.example/", "//evil.example", "/users", "/portal/../users"} {
		rec := f.signinAs("dev", devPassword, next)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != home {
			t.Errorf("sign-in with next=%q went to %q (%d)", next, rec.Header().Get("Location"), rec.Code)
		}
	}
	f.signin()
	rec := f.get("/portal/lang/zh-CN?back=" + url.QueryEscape("//evil.example/"))
	if rec.Header().Get("Location") != home {
		t.Errorf("language switch went to %q", rec.Header().Get("Location"))
	}
	rec = f.post("/portal/subscriptions/nope/delete", url.Values{"back": {"https://evil.example/"}}, true)
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "evil") {
		t.Errorf("unsubscribe's back went to %q", loc)
	}
	// The sign-in form carries next only as a local path.
	r := httptest.NewRequest("GET", "/portal/signin?next="+url.QueryEscape("https://evil.example/"), nil)
	rec = httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	if !strings.Contains(rec.Body.String(), `name="next" value="/portal/"`) {
		t.Error("the sign-in form carries a foreign next")
	}
}

func TestCSRFRefused(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	for _, path := range []string{"/portal/apps", "/portal/apis/" + f.svc + "/subscribe", "/portal/apis/" + f.svc + "/try", "/portal/signout"} {
		rec := f.post(path, url.Values{"name": {"x"}, "new_app": {"x"}}, false)
		want(t, path+" without CSRF", rec, http.StatusForbidden, "CSRF")
		rec = f.post(path, url.Values{"name": {"x"}, "new_app": {"x"}, "csrf": {adminapi.CSRFToken("another-session")}}, false)
		want(t, path+" with another session's CSRF", rec, http.StatusForbidden, "CSRF")
	}
	// Nothing was made.
	if rec := f.get("/portal/apps"); strings.Contains(rec.Body.String(), `>x</a>`) {
		t.Error("a forged post made an application")
	}
	// The sign-in form's double submit: no cookie, or a different one.
	form := url.Values{"username": {"dev"}, "password": {devPassword}, "csrf": {"0123456789abcdefghijklmnopqrstuv"}}
	r := httptest.NewRequest("POST", "/portal/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	want(t, "sign-in without the CSRF cookie", rec, http.StatusForbidden, "expired or came from another site")
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			t.Error("a forged sign-in set a session")
		}
	}
}

func TestSessionCookieAndHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	c := f.cookie
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/portal" || c.Secure {
		t.Errorf("session cookie = %+v", c)
	}
	// Over TLS the cookie is Secure.
	form := url.Values{"username": {"dev"}, "password": {devPassword}, "csrf": {"0123456789abcdefghijklmnopqrstuv"}}
	r := httptest.NewRequest("POST", "https://portal.example/portal/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: signinCSRFCookie, Value: "0123456789abcdefghijklmnopqrstuv"})
	rec := httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie && !c.Secure {
			t.Error("the session cookie over TLS is not Secure")
		}
	}
	rec = f.get("/portal/")
	h := rec.Header()
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", h)
	}
	// No inline script or style anywhere (the CSP would block them).
	for _, bad := range []string{"<script>", "style=", "onclick="} {
		if strings.Contains(rec.Body.String(), bad) {
			t.Errorf("the page has %q", bad)
		}
	}
	// Without a session a page sends to sign-in, back to the page.
	r = httptest.NewRequest("GET", "/portal/apps", nil)
	rec = httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal/signin?next=%2Fportal%2Fapps" {
		t.Errorf("anonymous: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// An ended session goes to sign-in too, and the cookie is dropped.
	rec = f.post("/portal/signout", nil, true)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal/signin" {
		t.Fatalf("sign out: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = f.get("/portal/apps")
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "expired=1") {
		t.Errorf("after sign-out: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestWrongPasswordSaysLittle(t *testing.T) {
	f := newFixture(t, Options{})
	for _, user := range []string{"dev", "nobody"} {
		rec := f.signinAs(user, "wrong-password-long", home)
		want(t, "wrong password of "+user, rec, http.StatusUnauthorized, "Wrong username or password.")
		if strings.Contains(rec.Body.String(), "wrong-password-long") {
			t.Error("the password is shown again")
		}
	}
}
