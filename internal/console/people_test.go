package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
)

// A password the admin API's policy takes.
const goodPassword = "Correct-Horse-Battery-9"

// apiCall sends one admin API request as the fixture's user (cookie and
// CSRF header, as a browser script would) and decodes the answer.
func (f *fixture) apiCall(tb testing.TB, method, path string, body any, want int, out any) {
	tb.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	r := httptest.NewRequest(method, adminapi.Prefix+path, rd)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(adminapi.CSRFHeader, f.csrf)
	r.AddCookie(f.cookie)
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, r)
	if rec.Code != want {
		tb.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (f *fixture) mkProject(tb testing.TB, id string) {
	tb.Helper()
	f.apiCall(tb, "POST", "/projects", map[string]string{"id": id, "name": id}, http.StatusCreated, nil)
}

// mkUser makes a user with goodPassword and answers their name.
func (f *fixture) mkUser(tb testing.TB, name, role string) string {
	tb.Helper()
	f.apiCall(tb, "POST", "/users", map[string]any{"username": name, "role": role, "password": goodPassword}, http.StatusCreated, nil)
	return name
}

func (f *fixture) member(tb testing.TB, project, user, role string) {
	tb.Helper()
	f.apiCall(tb, "PUT", "/projects/"+project+"/members/"+user, map[string]string{"role": role}, http.StatusOK, nil)
}

// as logs in through the console as user (password goodPassword) and
// answers a fixture sending their session.
func (f *fixture) as(tb testing.TB, user string) *fixture {
	tb.Helper()
	return f.loginAs(tb, user, goodPassword)
}

func (f *fixture) loginAs(tb testing.TB, user, password string) *fixture {
	tb.Helper()
	rec := f.login(tb, url.Values{"username": {user}, "password": {password}})
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("login as %s: %d %s", user, rec.Code, rec.Body)
	}
	g := &fixture{h: f.h, api: f.api}
	for _, c := range rec.Result().Cookies() {
		if c.Name == adminapi.SessionCookie {
			g.cookie = c
		}
	}
	if g.cookie == nil {
		tb.Fatalf("login as %s set no session", user)
	}
	g.csrf = adminapi.CSRFToken(g.cookie.Value)
	return g
}

var navRe = regexp.MustCompile(`id="nav-([a-z]+)" href="([^"]*)"`)

// navOf lists the navigation of a page: entry → link.
func navOf(body string) map[string]string {
	out := map[string]string{}
	for _, m := range navRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestMemberSeesOnlyWhatTheyMay: a user with one membership sees the
// navigation, pages and forms their role allows, in their project.
func TestMemberSeesOnlyWhatTheyMay(t *testing.T) {
	f := newFixture(t)
	f.mkProject(t, "shop")
	f.mkProject(t, "crm")
	f.mkUser(t, "provider", "user")
	f.member(t, "shop", "provider", "api_provider")
	f.member(t, "crm", "provider", "viewer")
	d := f.as(t, "provider")

	home := d.send("GET", "/", nil, false)
	if home.Code != 200 {
		t.Fatalf("dashboard: %d %.1000s", home.Code, home.Body)
	}
	nav := navOf(home.Body.String())
	for entry, href := range map[string]string{"dashboard": "/", "projects": "/projects", "groups": "/groups", "services": "/p/crm/services",
		"upstreams": "/p/crm/upstreams", "apps": "/applications", "members": "/p/crm/members", "roles": "/roles", "account": "/account"} {
		if nav[entry] != href {
			t.Errorf("nav %s: %q, want %q (all: %v)", entry, nav[entry], href, nav)
		}
	}
	for _, hidden := range []string{"users", "audit", "import"} {
		if _, ok := nav[hidden]; ok {
			t.Errorf("nav shows %s to a viewer of crm (all: %v)", hidden, nav)
		}
	}
	// In shop, where they are an api_provider, the import page is theirs.
	page := d.send("GET", "/p/shop/services", nil, false)
	nav = navOf(page.Body.String())
	if page.Code != 200 || nav["import"] != "/p/shop/import" || !strings.Contains(page.Body.String(), `id="add-service"`) {
		t.Errorf("shop services as api_provider: %d nav %v, add form %v", page.Code, nav, strings.Contains(page.Body.String(), `id="add-service"`))
	}
	page = d.send("GET", "/p/crm/services", nil, false)
	if page.Code != 200 || strings.Contains(page.Body.String(), `id="add-service"`) {
		t.Errorf("crm services as viewer: %d, add form shown %v", page.Code, strings.Contains(page.Body.String(), `id="add-service"`))
	}
	if rec := d.send("POST", "/p/shop/services", url.Values{"name": {"orders"}, "protocols": {"http"}}, true); rec.Code != http.StatusSeeOther {
		t.Errorf("api_provider creates a service: %d %.500s", rec.Code, rec.Body)
	}
	projects := d.send("GET", "/projects", nil, false).Body.String()
	if strings.Contains(projects, `action="/projects"`) || strings.Contains(projects, `href="/p/default/`) {
		t.Errorf("projects page offers what a member may not use:\n%.2000s", projects)
	}
	if groups := d.send("GET", "/groups", nil, false).Body.String(); strings.Contains(groups, `action="/groups`) {
		t.Error("groups page offers the group forms to a member")
	}
	members := d.send("GET", "/p/shop/members", nil, false)
	if members.Code != 200 || !strings.Contains(members.Body.String(), "provider") || strings.Contains(members.Body.String(), `id="member-new"`) {
		t.Errorf("members of shop as api_provider: %d, add form shown %v", members.Code, strings.Contains(members.Body.String(), `id="member-new"`))
	}
	roles := d.send("GET", "/roles", nil, false)
	if roles.Code != 200 || strings.Contains(roles.Body.String(), `id="role-new"`) || !strings.Contains(roles.Body.String(), "api_provider") {
		t.Errorf("roles as a member: %d, create form shown %v", roles.Code, strings.Contains(roles.Body.String(), `id="role-new"`))
	}
	acct := d.send("GET", "/account", nil, false)
	if acct.Code != 200 || !strings.Contains(acct.Body.String(), "<code>api_provider</code>") {
		t.Errorf("account page: %d, lacks the shop membership:\n%.2000s", acct.Code, acct.Body)
	}

	// A project admin manages members and reads their project's audit log.
	f.mkUser(t, "lead", "user")
	f.member(t, "shop", "lead", "project_admin")
	l := f.as(t, "lead")
	nav = navOf(l.send("GET", "/", nil, false).Body.String())
	if nav["audit"] != "/audit" || nav["members"] != "/p/shop/members" {
		t.Errorf("project admin's nav: %v", nav)
	}
	if rec := l.send("POST", "/p/shop/members/provider", url.Values{"role": {"developer"}}, true); rec.Code != http.StatusSeeOther {
		t.Errorf("project admin changes a role: %d %.500s", rec.Code, rec.Body)
	}
	audit := l.send("GET", "/audit", nil, false)
	if audit.Code != 200 || !strings.Contains(audit.Body.String(), "member.") {
		t.Errorf("project admin's audit log: %d\n%.2000s", audit.Code, audit.Body)
	}
}

var linkRe = regexp.MustCompile(`<code id="link-value">([^<]+)</code>`)

// TestUsersInviteAndAccept: a user created with an invitation gets a link
// shown once; the link's page (no login) sets the password, which then
// logs in; disable, enable, reset link, sessions and delete work from
// the user's page.
func TestUsersInviteAndAccept(t *testing.T) {
	f := newFixture(t)
	rec := f.send("POST", "/users", url.Values{"username": {"ada"}, "role": {"user"}, "display_name": {"Ada L."}, "email": {"ada@example.com"}, "how": {"invite"}}, true)
	m := linkRe.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("create with invitation: %d, no link:\n%.3000s", rec.Code, rec.Body)
	}
	link, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil || link.Path != "/invite" || link.Query().Get("token") == "" {
		t.Fatalf("invitation link %q (%v)", m[1], err)
	}
	if again := f.send("GET", "/users/ada", nil, false); strings.Contains(again.Body.String(), link.Query().Get("token")) {
		t.Fatal("the invitation link is shown again")
	}
	list := f.send("GET", "/users", nil, false).Body.String()
	if !strings.Contains(list, `href="/users/ada"`) || !strings.Contains(list, "no password yet") {
		t.Errorf("users list lacks ada as invited:\n%.3000s", list)
	}
	// The new user form offers the least role first: a form sent as it
	// comes makes a user, not a super_admin.
	if !regexp.MustCompile(`id="user-role"><option[^>]*>user</option>`).MatchString(list) {
		t.Errorf("the new user form does not default to user:\n%.3000s", list)
	}

	// The invitation page, without a session.
	anon := &fixture{h: f.h, api: f.api}
	page := anon.send("GET", link.RequestURI(), nil, false)
	var csrf *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == inviteCSRFCookie {
			csrf = c
		}
	}
	if page.Code != 200 || csrf == nil || !strings.Contains(page.Body.String(), `name="token" value="`+link.Query().Get("token")+`"`) {
		t.Fatalf("invite page: %d cookie %v\n%.2000s", page.Code, csrf, page.Body)
	}
	post := func(form url.Values, ck *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/invite", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if ck != nil {
			r.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		return rec
	}
	form := url.Values{"token": {link.Query().Get("token")}, "password": {goodPassword}, "password2": {goodPassword}, "csrf": {csrf.Value}}
	if rec := post(form, nil); rec.Code != http.StatusForbidden {
		t.Errorf("accept without the CSRF cookie: %d, want 403", rec.Code)
	}
	weak := cloneValues(form)
	weak.Set("password", "short")
	weak.Set("password2", "short")
	if rec := post(weak, csrf); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "12") {
		t.Errorf("a weak password: %d\n%.2000s", rec.Code, rec.Body)
	}
	if rec := post(form, csrf); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?flash=password_set") {
		t.Fatalf("accept: %d %q\n%.2000s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if rec := post(form, csrf); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "This link does not work") {
		t.Errorf("the link a second time: %d\n%.2000s", rec.Code, rec.Body)
	}
	ada := f.as(t, "ada")
	if rec := ada.send("GET", "/account", nil, false); rec.Code != 200 || !strings.Contains(rec.Body.String(), "ada") {
		t.Fatalf("ada's account: %d", rec.Code)
	}

	// Her sessions show on her page; disabling ends them.
	if page := f.send("GET", "/users/ada", nil, false).Body.String(); !strings.Contains(page, `id="user-sessions"`) {
		t.Errorf("ada's page lists no session:\n%.3000s", page)
	}
	if rec := f.send("POST", "/users/ada/disable", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d %.500s", rec.Code, rec.Body)
	}
	if rec := ada.send("GET", "/account", nil, false); rec.Code != http.StatusSeeOther {
		t.Errorf("a disabled user's session still works: %d", rec.Code)
	}
	if rec := f.send("POST", "/users/ada/enable", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("enable: %d %.500s", rec.Code, rec.Body)
	}
	rec = f.send("POST", "/users/ada/reset", nil, true)
	if rec.Code != 200 || linkRe.FindString(rec.Body.String()) == "" || !strings.Contains(rec.Body.String(), "password reset link") {
		t.Errorf("reset link: %d\n%.2000s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/users", url.Values{"username": {"bob"}, "role": {"user"}, "how": {"password"}}, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Type the password") {
		t.Errorf("create with an empty password: %d", rec.Code)
	}
	if rec := f.send("POST", "/users", url.Values{"username": {"bob"}, "role": {"user"}, "how": {"password"}, "password": {goodPassword}}, true); rec.Code != http.StatusSeeOther {
		t.Errorf("create with a password: %d %.500s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/users/bob/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Errorf("delete: %d %.500s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/users/admin/delete", nil, true); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "yourself") {
		t.Errorf("delete yourself: %d, want 409 with the reason", rec.Code)
	}
}

var tokenRe = regexp.MustCompile(`<code id="token-value">(pat_[^<]+)</code>`)

// TestAccountTokensAndPassword: a personal access token is shown once and
// works as a bearer token until revoked; the password form checks the
// repeat and the current password.
func TestAccountTokensAndPassword(t *testing.T) {
	f := newFixture(t)
	f.mkUser(t, "dev", "user")
	d := f.as(t, "dev")
	rec := d.send("POST", "/account/tokens", url.Values{"name": {"ci"}, "scope": {"read"}, "expires_in_days": {"30"}}, true)
	m := tokenRe.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("create token: %d\n%.2000s", rec.Code, rec.Body)
	}
	me := httptest.NewRequest("GET", adminapi.Prefix+"/me", nil)
	me.Header.Set("Authorization", "Bearer "+m[1])
	ans := httptest.NewRecorder()
	f.api.ServeHTTP(ans, me)
	if ans.Code != 200 || !strings.Contains(ans.Body.String(), `"scope": "read"`) {
		t.Fatalf("the token on /me: %d %s", ans.Code, ans.Body)
	}
	page := d.send("GET", "/account", nil, false).Body.String()
	if strings.Contains(page, m[1]) || !strings.Contains(page, `id="my-tokens"`) {
		t.Fatal("the token text is shown again, or the token is not listed")
	}
	if rec := d.send("POST", "/account/tokens", url.Values{"name": {"ci"}, "scope": {"read"}}, true); rec.Code != http.StatusConflict {
		t.Errorf("a second token of the same name: %d", rec.Code)
	}
	if rec := d.send("POST", "/account/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expires_in_days": {"zz"}}, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "366") {
		t.Errorf("bad days: %d", rec.Code)
	}
	var toks struct {
		Items []struct{ ID string }
	}
	d.apiCall(t, "GET", "/tokens", nil, 200, &toks)
	if len(toks.Items) != 1 {
		t.Fatalf("tokens: %+v", toks)
	}
	if rec := d.send("POST", "/account/tokens/"+toks.Items[0].ID+"/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	ans = httptest.NewRecorder()
	f.api.ServeHTTP(ans, me)
	if ans.Code != http.StatusUnauthorized {
		t.Errorf("a revoked token on /me: %d", ans.Code)
	}

	pw := url.Values{"current_password": {goodPassword}, "new_password": {"Another-Long-Pass-42"}, "new_password2": {"Another-Long-Pass-43"}}
	if rec := d.send("POST", "/account/password", pw, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The two passwords differ") {
		t.Errorf("mismatched repeat: %d", rec.Code)
	}
	pw.Set("new_password2", "Another-Long-Pass-42")
	pw.Set("current_password", "wrong-password-1")
	if rec := d.send("POST", "/account/password", pw, true); rec.Code < 400 || rec.Code >= 500 || strings.Contains(rec.Body.String(), "wrong-password-1") {
		t.Errorf("wrong current password: %d", rec.Code)
	}
	pw.Set("current_password", goodPassword)
	if rec := d.send("POST", "/account/password", pw, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("change password: %d %.1000s", rec.Code, rec.Body)
	}
	f.loginAs(t, "dev", "Another-Long-Pass-42")
}

// TestRolesMembersAudit: custom roles are made with checkboxes and given
// to members; built-in roles are read-only; the audit log filters, pages
// and links its export; every people page renders in Chinese.
func TestRolesMembersAudit(t *testing.T) {
	f := newFixture(t)
	f.mkUser(t, "dev", "user")
	roles := f.send("GET", "/roles", nil, false).Body.String()
	if !strings.Contains(roles, `id="role-project_admin"`) || !strings.Contains(roles, "<code>member:manage</code>") || !strings.Contains(roles, `id="role-new"`) {
		t.Fatalf("roles page:\n%.3000s", roles)
	}
	if page := f.send("GET", "/roles/viewer", nil, false).Body.String(); strings.Contains(page, `action="/roles/viewer"`) || !strings.Contains(page, `id="role-perms"`) {
		t.Error("a built-in role offers an edit form")
	}
	rec := f.send("POST", "/roles", url.Values{"name": {"releaser"}, "description": {"ships"}, "permissions": {"service:read", "service:publish", "group:test:publish"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/roles/releaser") {
		t.Fatalf("create role: %d %.1000s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/roles", url.Values{"name": {"bad"}, "permissions": {"user:manage"}}, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `class="ferr"`) {
		t.Errorf("a system permission in a custom role: %d\n%.2000s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/roles/releaser", url.Values{"description": {"ships more"}, "permissions": {"service:read", "service:publish", "canary:write"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit role: %d %.1000s", rec.Code, rec.Body)
	}
	if page := f.send("GET", "/roles/releaser", nil, false).Body.String(); !regexp.MustCompile(`value="canary:write" checked`).MatchString(page) {
		t.Errorf("the role page does not check canary:write:\n%.3000s", page)
	}

	if rec := f.send("POST", "/p/default/members", url.Values{"username": {"dev"}, "role": {"releaser"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("add member: %d %.1000s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/p/default/members", url.Values{"username": {"nobody"}, "role": {"viewer"}}, true); rec.Code != http.StatusNotFound && rec.Code != http.StatusBadRequest {
		t.Errorf("add an unknown user: %d", rec.Code)
	}
	members := f.send("GET", "/p/default/members", nil, false).Body.String()
	if !strings.Contains(members, `href="/users/dev"`) || !strings.Contains(members, "<code>releaser</code>") {
		t.Errorf("members page:\n%.3000s", members)
	}
	if rec := f.send("POST", "/roles/releaser/delete", nil, true); rec.Code != http.StatusConflict {
		t.Errorf("delete a role a member holds: %d", rec.Code)
	}
	if rec := f.send("POST", "/p/default/members/dev/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Errorf("remove member: %d", rec.Code)
	}
	if rec := f.send("POST", "/roles/releaser/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Errorf("delete role: %d %.500s", rec.Code, rec.Body)
	}

	audit := f.send("GET", "/audit?actor=admin&action=role.", nil, false)
	body := audit.Body.String()
	if audit.Code != 200 || !strings.Contains(body, "role.create") || strings.Contains(body, "member.") {
		t.Errorf("audit filtered by action role.: %d\n%.3000s", audit.Code, body)
	}
	if !strings.Contains(body, `href="/api/v1/audit-events/export?action=role.&amp;actor=admin"`) {
		t.Errorf("the export link does not carry the filters:\n%.3000s", body)
	}
	if rec := f.send("GET", "/audit?since=yesterday", nil, false); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "RFC 3339") {
		t.Errorf("a bad since: %d", rec.Code)
	}
	if rec := f.send("GET", "/audit?since=2020-01-01T00:00&page=1", nil, false); rec.Code != 200 {
		t.Errorf("since as a datetime-local field sends it: %d %.1000s", rec.Code, rec.Body)
	}

	for path, want := range map[string]string{"/users": "新建用户", "/users/dev": "设置密码", "/p/default/members": "添加成员",
		"/roles": "内置角色", "/account": "个人访问令牌", "/audit": "审计日志"} {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(f.cookie)
		r.Header.Set("Accept-Language", "zh-CN")
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s in Chinese: %d, lacks %q", path, rec.Code, want)
		}
	}
	r := httptest.NewRequest("GET", "/invite?token=x", nil)
	r.Header.Set("Accept-Language", "zh-CN")
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "设置密码") {
		t.Errorf("the invitation page in Chinese: %d", rec.Code)
	}
}

// TestPeopleFormsNeverAnswer500 posts odd values to every people form.
func TestPeopleFormsNeverAnswer500(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t)
	f.mkUser(t, "dev", "user")
	posts := []string{"/users", "/users/dev", "/users/dev/disable", "/users/dev/enable", "/users/dev/invite", "/users/dev/reset",
		"/users/dev/password", "/users/dev/sessions/nope/delete", "/users/dev/tokens/nope/delete", "/users/dev/unlock",
		"/users/nope", "/users/nope/delete", "/p/default/members", "/p/default/members/dev", "/p/default/members/nope/delete",
		"/p/nope/members", "/roles", "/roles/nope", "/roles/viewer", "/roles/viewer/delete", "/account/tokens",
		"/account/tokens/nope/delete", "/account/sessions/nope/delete", "/account/password", "/users/dev/delete"}
	odd := []string{"", " ", "x", "-1", "99999999999999999999", "<script>alert(1)</script>", "../../etc/passwd", "//evil.example/",
		"\x00", strings.Repeat("a", 5000), "名字", "null"}
	fields := []string{"username", "role", "display_name", "email", "how", "password", "name", "description", "permissions",
		"scope", "expires_in_days", "current_password", "new_password", "new_password2", "back", "current"}
	for _, p := range posts {
		if rec := f.send("POST", p, url.Values{"name": {"x"}}, false); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", p, rec.Code)
		}
		for i, v := range odd {
			form := url.Values{}
			for j, k := range fields {
				form.Set(k, odd[(i+j)%len(odd)])
			}
			form.Set("name", v)
			if rec := f.send("POST", p, form, true); rec.Code >= 500 {
				t.Errorf("POST %s with %q: %d %.300s", p, v, rec.Code, rec.Body)
			}
		}
	}
	for _, g := range []string{"/users?page=-1&q=%00", "/users/nope", "/p/nope/members", "/roles/nope", "/audit?page=zz&until=x&project=%00",
		"/invite", "/invite?token=" + strings.Repeat("x", 5000), "/account"} {
		if rec := f.send("GET", g, nil, false); rec.Code >= 500 {
			t.Errorf("GET %s: %d %.300s", g, rec.Code, rec.Body)
		}
	}
	anon := &fixture{h: f.h, api: f.api}
	if rec := anon.send("POST", "/invite", url.Values{"token": {"x"}, "password": {"y"}}, false); rec.Code != http.StatusForbidden {
		t.Errorf("POST /invite without its CSRF cookie: %d", rec.Code)
	}
}

// TestLockoutsLifted: a username locked by failed logins shows on the
// users page and on its project's members page (for a project admin, who
// holds lockout:manage there), and either lifts it.
func TestLockoutsLifted(t *testing.T) {
	f := newFixture(t)
	f.mkProject(t, "shop")
	f.mkUser(t, "dev", "user")
	f.mkUser(t, "lead", "user")
	f.member(t, "shop", "dev", "viewer")
	f.member(t, "shop", "lead", "project_admin")
	lead := f.as(t, "lead")
	lock := func() {
		for range 5 {
			f.login(t, url.Values{"username": {"dev"}, "password": {"wrong-password-x"}})
		}
		if rec := f.login(t, url.Values{"username": {"dev"}, "password": {goodPassword}}); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("dev not locked: %d", rec.Code)
		}
	}
	lock()
	users := f.send("GET", "/users", nil, false).Body.String()
	if !strings.Contains(users, `id="lockouts"`) || !strings.Contains(users, `action="/users/dev/unlock"`) {
		t.Fatalf("users page lacks dev's lockout:\n%.3000s", users)
	}
	rec := f.send("POST", "/users/dev/unlock", url.Values{"back": {"/users"}}, true)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users?flash=unlocked" {
		t.Fatalf("unlock: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	f.as(t, "dev")

	lock()
	members := lead.send("GET", "/p/shop/members", nil, false).Body.String()
	if !strings.Contains(members, `action="/users/dev/unlock"`) || !strings.Contains(members, `value="/p/shop/members"`) {
		t.Fatalf("members page lacks dev's lockout for the project admin:\n%.3000s", members)
	}
	rec = lead.send("POST", "/users/dev/unlock", url.Values{"back": {"/p/shop/members"}}, true)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/p/shop/members?flash=unlocked" {
		t.Fatalf("unlock by the project admin: %d %q %.500s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	f.as(t, "dev")
	if rec := f.as(t, "dev").send("POST", "/users/lead/unlock", nil, true); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "lockout:manage") {
		t.Errorf("a viewer unlocks: %d", rec.Code)
	}
}
