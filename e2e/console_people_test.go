package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hidden reports whether nothing matches css on the current page.
func (u *ui) hidden(css string) bool {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	none, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(css)+`) === null`))
	if err != nil {
		u.fail("query %s: %v", css, err)
	}
	return none
}

func jsString(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// TestConsoleBrowserPeople drives the people pages: an admin invites a
// user and gives them a role, makes a token and reads the audit log; the
// user opens the link, sets a password, logs in and sees only what a
// viewer may, with a 403 page naming the permission elsewhere.
func TestConsoleBrowserPeople(t *testing.T) {
	t.Parallel() // its own server and users: it runs beside the other parallel tests
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	u := &ui{t: t, ctx: ctx, s: s}
	u.adminLogin()

	u.open("/users")
	u.click("#user-new")
	u.fill("#user-name", "ada")
	u.click("#user-create")
	link := u.waitText("#link-value", "/invite?token=")
	u.waitText("#flash", "Created")

	u.open("/p/default/members")
	u.click("#member-new")
	u.fill("#member-name", "ada")
	u.do("pick viewer", chromedp.SetValue(chromedp.CSS("#member-role"), "viewer"))
	u.click("#member-save")
	u.waitText("#members", "viewer")

	u.open("/account")
	u.click("#token-new")
	u.fill("#token-name", "ci")
	u.click("#token-create")
	u.waitText("#token-value", "pat_")
	u.waitText("#my-tokens", "ci")

	u.open("/audit?action=member.")
	u.waitText("#audit", "member.")
	u.click("#nav-audit")
	u.waitText("#audit", "user.create")

	u.click("#logout")
	u.waitText("h1", "Log in")
	lu, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	u.open(lu.RequestURI())
	u.fill("#invite-password", "Analytical-Engine-1843-notes")
	u.fill("#invite-password2", "Analytical-Engine-1843-notes")
	u.click("#invite-submit")
	u.waitText("#flash", "Password set")
	u.fill("#username", "ada")
	u.fill("#password", "Analytical-Engine-1843-notes")
	u.click("#login")
	u.waitText("h1", "Dashboard")
	u.waitText("#nav-account", "ada")
	for _, css := range []string{"#nav-users", "#nav-audit", "#nav-import"} {
		if !u.hidden(css) {
			u.fail("a viewer's navigation shows %s", css)
		}
	}
	u.click("#nav-services")
	u.waitText("h1", "Services")
	if !u.hidden("#add-service") {
		u.fail("a viewer is offered Add Service")
	}
	u.open("/users")
	u.waitText("#denied-perm", "user:read")
	u.open("/lang/zh-CN?back=/p/default/import")
	u.waitText("h1", "没有权限")
	u.waitText("#denied-perm", "service:write")
	u.open("/lang/en?back=/")
}
