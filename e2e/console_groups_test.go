package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portico-gw/portico/internal/certtest"
)

// TestGroupPageBrowser: a gateway group's page in English and Chinese —
// the embedded gateway among its instances serving the group's revision,
// a certificate that expires in 10 days flagged — and the header's project
// switcher taking the services page to another project, which the
// navigation then keeps.
func TestGroupPageBrowser(t *testing.T) {
	t.Parallel() // its own server: it runs beside the other parallel tests
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","name":"Shop"}`, 201, nil)
	pair := certtest.NewCA(t).IssueValid(t, time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour), "shop.example.com")
	cert, _ := json.Marshal(map[string]any{"name": "shop", "certificate": pair.Chain, "private_key": pair.Key})
	s.do(t, "POST", "/api/v1/gateway-groups/default/certificates", string(cert), 201, nil)

	u := &ui{t: t, ctx: ctx, s: s}
	u.adminLogin()
	u.open("/groups")
	u.click("#group-link-default")
	u.waitText("#group-name", "default")
	u.waitText("#group-instances", "embedded")
	u.waitText("#convergence", "live instances serve it")
	u.waitText("#cert-shop", "expires soon")
	u.waitText("#cert-shop", "shop.example.com")
	u.click("#lang-zh")
	u.waitText("#instances h2", "网关实例")
	u.waitText("#cert-shop", "即将过期")
	u.waitText("#tokens h2", "接入令牌")
	page := evalString(u, `document.documentElement.outerHTML`)
	if strings.Contains(page, strings.Split(pair.Key, "\n")[1]) {
		u.fail("the group page shows the certificate's private key")
	}

	// The switcher, with the keyboard's reach: a summary and links.
	u.open("/p/default/services")
	u.waitText("#switcher-current", "default")
	u.click("#switcher-open")
	u.click("#switch-shop")
	u.waitText("#switcher-current", "shop")
	u.waitText("h1", "服务")
	if loc := evalString(u, `location.pathname`); !strings.HasSuffix(loc, "/p/shop/services") {
		u.fail("the switcher opened %s, want the project shop's services", loc)
	}
	u.open("/groups")
	if href := evalString(u, `document.querySelector("#nav-upstreams").getAttribute("href")`); !strings.HasSuffix(href, "/p/shop/upstreams") {
		u.fail("after the switch, Upstreams opens %q", href)
	}
}

// evalString is the value of a JavaScript expression on the page.
func evalString(u *ui, js string) string {
	u.t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		u.fail("evaluate %s: %v", js, err)
	}
	return v
}
