package console

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/webpage"
)

// login fetches the login form (its CSRF cookie and field) and posts form
// with them, as a browser does.
func (f *fixture) login(tb testing.TB, form url.Values) *httptest.ResponseRecorder {
	tb.Helper()
	page := httptest.NewRecorder()
	f.h.ServeHTTP(page, httptest.NewRequest("GET", "/login", nil))
	var ck *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == loginCSRFCookie {
			ck = c
		}
	}
	if ck == nil {
		tb.Fatal("the login page set no CSRF cookie")
	}
	if !strings.Contains(page.Body.String(), `name="csrf" value="`+ck.Value+`"`) {
		tb.Fatal("the login form lacks the CSRF field")
	}
	form = cloneValues(form)
	form.Set("csrf", ck.Value)
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(ck)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

func TestSafeRedirect(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/projects", "/projects"},
		{"/p/default/services/abc-1?flash=saved&page=2", "/p/default/services/abc-1?flash=saved&page=2"},
		{"/p/default/services?q=a+b%20c", "/p/default/services?q=a+b%20c"},
		{"/login?next=%2Fp%2Fdefault", "/login?next=%2Fp%2Fdefault"},
		{"/p/%E5%90%8D/services", "/p/%E5%90%8D/services"},
		{"", "/"},
		{"projects", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example/x", "/"},
		{"/\t/evil.example/x", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/x\\y", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f/evil.example", "/"},
		{"/%5C/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%252F%252Fevil.example", "/"},
		{"/%zz", "/"},
		{"/%2", "/"},
		{"/x#frag", "/"},
		{"/x@evil.example", "/"},
		{"/javascript:alert(1)", "/"},
		{"/名字", "/"},
		{"/" + strings.Repeat("a", webpage.MaxRedirect), "/"},
	} {
		if got := safeRedirect(tc.in); got != tc.want {
			t.Errorf("safeRedirect(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNoOpenRedirect: the language switch (no login needed) and the
// login form's next never send the browser to another origin.
func TestNoOpenRedirect(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/%09/evil.example/x", "//evil.example", "/%5C/evil.example", "https://evil.example", "/%0D%0A/evil.example"} {
		rec := f.send("GET", "/lang/en?back="+target, nil, false)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
			t.Errorf("/lang/en?back=%s: %d Location %q, want 303 /", target, rec.Code, rec.Header().Get("Location"))
		}
		next, _ := url.QueryUnescape(target)
		rec = f.login(t, url.Values{"username": {"admin"}, "password": {"pw"}, "next": {next}})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
			t.Errorf("login next=%q: %d Location %q, want 303 /", next, rec.Code, rec.Header().Get("Location"))
		}
		page := f.send("GET", "/login?next="+target, nil, false)
		if !strings.Contains(page.Body.String(), `name="next" value="/"`) {
			t.Errorf("/login?next=%s carries the target into the form", target)
		}
	}
	rec := f.send("GET", "/lang/zh-CN?back=/p/default/services%3Fpage%3D2", nil, false)
	if rec.Header().Get("Location") != "/p/default/services?page=2" {
		t.Errorf("a path of this site: Location %q", rec.Header().Get("Location"))
	}
}

// TestLoginCSRF: a login post without the form's cookie token, or with a
// token other than the cookie's, is refused and sets no session.
func TestLoginCSRF(t *testing.T) {
	f := newFixture(t)
	f.cookie = nil
	form := url.Values{"username": {"admin"}, "password": {"pw"}, "csrf": {"forged"}}
	rec := f.send("POST", "/login", form, false)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("login without CSRF cookie: %d, want 403", rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "portico_session" && c.Value != "" {
			t.Fatal("a forged login set a session")
		}
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: strings.Repeat("A", 26)})
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("login with a mismatched CSRF token: %d, want 403", rec.Code)
	}
	page := httptest.NewRecorder()
	f.h.ServeHTTP(page, httptest.NewRequest("GET", "/login", nil))
	for _, c := range page.Result().Cookies() {
		if c.Name == loginCSRFCookie && (c.SameSite != http.SameSiteStrictMode || !c.HttpOnly) {
			t.Errorf("login CSRF cookie: SameSite %v HttpOnly %v, want Strict and HttpOnly", c.SameSite, c.HttpOnly)
		}
	}
}

// TestLoginThrottledMessage: a locked login shows why, with Retry-After.
func TestLoginThrottledMessage(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		if rec := f.login(t, url.Values{"username": {"admin"}, "password": {"wrong"}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", rec.Code)
		}
	}
	rec := f.login(t, url.Values{"username": {"admin"}, "password": {"pw"}})
	after, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || err != nil || after < 1 || after > 60 {
		t.Fatalf("locked login: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), fmt.Sprintf("Too many failed attempts. Try again in %d seconds.", after)) {
		t.Errorf("the page does not say the login is throttled:\n%.2000s", rec.Body)
	}
}

// TestLanguageSwitchReturnsToThePage: the header's language link, as
// rendered, brings the browser back to the page it was on, query and all.
func TestLanguageSwitchReturnsToThePage(t *testing.T) {
	f := newFixture(t)
	page := f.send("GET", "/p/default/services?page=2", nil, true)
	m := regexp.MustCompile(`id="lang-zh" href="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("no language link on the page:\n%s", page.Body.String())
	}
	href := html.UnescapeString(m[1])
	rec := f.send("GET", href, nil, false)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/p/default/services?page=2" {
		t.Fatalf("GET %s: %d Location %q, want 303 back to /p/default/services?page=2", href, rec.Code, rec.Header().Get("Location"))
	}
}
