package console

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestProjectSwitcher: the header lists the projects; from a service's
// page the other project's entry opens that project's services and is
// remembered, so that the navigation's project pages open it from a page
// that names no project.
func TestProjectSwitcher(t *testing.T) {
	f := newFixture(t)
	if rec := f.send("POST", "/projects", url.Values{"id": {"shop"}, "name": {"Shop"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create project: %d %.500s", rec.Code, rec.Body)
	}
	rec := f.send("POST", "/p/default/services", url.Values{"name": {"orders"}, "protocols": {"http"}}, true)
	svc := strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
	body := f.send("GET", svc+"/versions", nil, false).Body.String()
	m := regexp.MustCompile(`id="switch-shop" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `id="project-switcher"`) || !strings.Contains(body, `aria-label="Switch project`) {
		t.Fatalf("no labelled switcher with the project shop on %s", svc)
	}
	href := html.UnescapeString(m[1])
	if href != "/p/shop/switch?to=services" {
		t.Errorf("the switcher's link from a service's page: %q, want the other project's services", href)
	}
	rec = f.send("GET", href, nil, false)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/p/shop/services" {
		t.Fatalf("GET %s: %d Location %q, want /p/shop/services", href, rec.Code, rec.Header().Get("Location"))
	}
	var chosen *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == projectCookie {
			chosen = c
		}
	}
	if chosen == nil || chosen.Value != "shop" || !chosen.HttpOnly {
		t.Fatalf("the choice is not kept: %+v", chosen)
	}
	// From a page of no project: back to it, and the navigation follows.
	groups := f.send("GET", "/groups", nil, false).Body.String()
	m = regexp.MustCompile(`id="switch-shop" href="([^"]+)"`).FindStringSubmatch(groups)
	if m == nil || html.UnescapeString(m[1]) != "/p/shop/switch?back=%2Fgroups" {
		t.Fatalf("the switcher's link from /groups: %v", m)
	}
	r := f.send("GET", html.UnescapeString(m[1]), nil, false)
	if r.Header().Get("Location") != "/groups" {
		t.Errorf("switching on /groups goes to %q", r.Header().Get("Location"))
	}
	groups = getWith(f, "/groups", chosen).Body.String()
	for _, nav := range []string{`id="nav-services" href="/p/shop/services"`, `id="nav-upstreams" href="/p/shop/upstreams"`, `id="nav-import" href="/p/shop/import"`, `id="switcher-current">shop<`} {
		if !strings.Contains(groups, nav) {
			t.Errorf("after switching, /groups lacks %s", nav)
		}
	}
	// A project the user may not see is not remembered, and odd links
	// go nowhere else.
	if !strings.Contains(getWith(f, "/groups", &http.Cookie{Name: projectCookie, Value: "nope"}).Body.String(), `id="nav-services" href="/p/default/services"`) {
		t.Error("a remembered project that does not exist is used")
	}
	for _, odd := range []string{"/p/shop/switch?to=../../x", "/p/shop/switch?back=//evil.example", "/p/shop/switch?to=%00&back=%00", "/p/nope/switch?to=services"} {
		rec := f.send("GET", odd, nil, false)
		if loc := rec.Header().Get("Location"); rec.Code >= 500 || strings.HasPrefix(loc, "//") || strings.Contains(loc, "evil") {
			t.Errorf("GET %s: %d Location %q", odd, rec.Code, loc)
		}
	}
}

// getWith is a GET with the session and one more cookie.
func getWith(f *fixture, path string, extra *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(f.cookie)
	r.AddCookie(&http.Cookie{Name: extra.Name, Value: extra.Value})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

// TestGroupPageAndSwitcherForAMember: a project member sees the group
// page without the join tokens and the certificate forms (403 if posted
// all the same), and switches only among their own projects.
func TestGroupPageAndSwitcherForAMember(t *testing.T) {
	f := newFixture(t)
	f.mkProject(t, "shop")
	f.mkProject(t, "other")
	f.member(t, "default", f.mkUser(t, "dev", "user"), "developer")
	f.member(t, "shop", "dev", "developer")
	dev := f.as(t, "dev")
	rec := dev.send("GET", "/groups/default", nil, false)
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, `id="tokens"`) || strings.Contains(body, `id="cert-new"`) || !strings.Contains(body, `id="certificates"`) {
		t.Fatalf("the member's group page: %d, tokens or upload shown, or certificates missing", rec.Code)
	}
	if rec := dev.send("POST", "/groups/default/certificates", url.Values{"name": {"x"}}, true); rec.Code != http.StatusForbidden {
		t.Errorf("a member's upload: %d, want 403", rec.Code)
	}
	if !strings.Contains(body, `id="switch-shop"`) || strings.Contains(body, `id="switch-other"`) {
		t.Error("the member's switcher should list default and shop only")
	}
	if rec := dev.send("GET", "/p/other/switch?to=services", nil, false); rec.Code != http.StatusForbidden || len(rec.Result().Cookies()) > 0 {
		t.Errorf("switching into a project of others: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
}
