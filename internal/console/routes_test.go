package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
)

// TestEveryPageDeclaresAPermission: every row of the page table names a
// permission rbac knows (or is public on purpose), a project page checks
// in the project of its path, and nothing is registered outside the
// table but the pages New serves before a login.
func TestEveryPageDeclaresAPermission(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range pageTable() {
		if seen[rt.pattern] {
			t.Errorf("%s: two rows", rt.pattern)
		}
		seen[rt.pattern] = true
		if rt.handle == nil {
			t.Errorf("%s: no handler", rt.pattern)
		}
		switch {
		case rt.scope == scopePublic:
			if rt.perm != "" {
				t.Errorf("%s: public, yet declares %s", rt.pattern, rt.perm)
			}
		case rt.perm == "":
			t.Errorf("%s declares no permission: give its row perm (and scope), as the admin API's endpoints do", rt.pattern)
		case !rbac.Known(rt.perm):
			t.Errorf("%s: unknown permission %q", rt.pattern, rt.perm)
		}
		hasP := strings.Contains(rt.pattern, "{p}")
		if hasP != (rt.scope == scopeProject) {
			t.Errorf("%s: scope %s; a page under a project ({p}) is checked in it, and only such a page", rt.pattern, rt.scope)
		}
		if rt.scope == scopeProject && slices.Contains(rbac.System, rt.perm) {
			t.Errorf("%s: %s is a system permission, never held in a project", rt.pattern, rt.perm)
		}
	}
	c := New(Config{API: http.NotFoundHandler()}).(*Console)
	for _, p := range c.mux.patterns {
		if _, ok := routeIndex[p]; !ok && !outsideTable[p] {
			t.Errorf("%s is registered outside the page table: add a row with its permission (or to outsideTable if it comes before a login)", p)
		}
	}
	for _, n := range navTable {
		if _, ok := routeIndex[n.pattern]; !ok {
			t.Errorf("navigation entry %s leads to %q, not a page", n.Nav, n.pattern)
		}
		if !messages.Has(n.Key) {
			t.Errorf("navigation entry %s: no message %q", n.Nav, n.Key)
		}
	}
}

// TestTemplatesAskKnownPages: every Can/CanIn in a template names a row of
// the page table (a typo would hide a form for everyone).
func TestTemplatesAskKnownPages(t *testing.T) {
	re := regexp.MustCompile(`Can(?:In)? "([^"]+)"`)
	_ = fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := routeIndex[m[1]]; !ok {
				t.Errorf("%s asks Can %q, which is no page", path, m[1])
			}
		}
		return nil
	})
}

// TestPeopleMessagesOverrideNothing: the people catalogue adds keys only,
// and every permission has its sentence in both languages.
func TestPeopleMessagesOverrideNothing(t *testing.T) {
	if len(overridden) > 0 {
		t.Errorf("i18n_people.go redefines keys of i18n.go: %v", overridden)
	}
	all := append(append(append([]rbac.Permission{}, rbac.Baseline...), rbac.System...), rbac.ProjectPermissions...)
	for _, p := range all {
		if !messages.Has("perm." + string(p)) {
			t.Errorf("no message perm.%s", p)
		}
	}
	for _, r := range append([]string{rbac.SuperAdmin, rbac.User}, rbac.BuiltinProjectRoles...) {
		if !messages.Has("role." + r) {
			t.Errorf("no message role.%s", r)
		}
	}
}

// TestForbiddenPage: a page the user may not open answers 403 naming the
// permission and the project, in the user's language, before the page
// asks the admin API anything (the API would answer 404 for a project
// the user is not a member of).
func TestForbiddenPage(t *testing.T) {
	f := newFixture(t)
	f.mkProject(t, "shop")
	dev := f.mkUser(t, "dev", "user")
	f.member(t, "shop", "dev", rbac.Viewer)
	d := f.as(t, dev)

	for _, tc := range []struct{ method, path, perm, project string }{
		{"GET", "/users", "user:read", ""},
		{"GET", "/p/default/services", "service:read", "default"},
		{"GET", "/p/nope/upstreams", "upstream:read", "nope"},
		{"GET", "/p/shop/import", "service:write", "shop"},
		{"GET", "/p/shop/services/x/debug", "service:debug", "shop"},
		{"POST", "/p/shop/services", "service:write", "shop"},
		{"POST", "/p/shop/members", "member:manage", "shop"},
		{"POST", "/groups", "group:manage", ""},
		{"POST", "/roles", "role:manage", ""},
		{"GET", "/audit", "audit:read", ""},
	} {
		rec := d.send(tc.method, tc.path, url.Values{"name": {"x"}}, true)
		body := rec.Body.String()
		if rec.Code != http.StatusForbidden || !strings.Contains(body, `<code id="denied-perm">`+tc.perm+`</code>`) {
			t.Errorf("%s %s: %d, want 403 naming %s:\n%.1500s", tc.method, tc.path, rec.Code, tc.perm, body)
			continue
		}
		if tc.project != "" && !strings.Contains(body, `<code id="denied-project">`+tc.project+`</code>`) {
			t.Errorf("%s %s: the 403 page does not name project %s", tc.method, tc.path, tc.project)
		}
	}
	if rec := d.send("GET", "/p/shop/members", nil, false); rec.Code != http.StatusOK {
		t.Errorf("a viewer reads the members: %d", rec.Code)
	}
	if rec := d.send("GET", "/p/shop/import", nil, false); !strings.Contains(rec.Body.String(), "<code>viewer</code>") {
		t.Errorf("the 403 page does not say the user's role:\n%.1500s", rec.Body)
	}
	r := httptest.NewRequest("GET", "/users", nil)
	r.AddCookie(d.cookie)
	r.Header.Set("Accept-Language", "zh-CN")
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "没有权限") || !strings.Contains(rec.Body.String(), "查看用户") {
		t.Errorf("Chinese 403 page: %d\n%.1500s", rec.Code, rec.Body)
	}
}
