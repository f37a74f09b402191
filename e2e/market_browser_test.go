package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// marketWords are the texts the market flow checks, per language: the
// console's and the portal's own words, so that a page left untranslated
// fails.
var marketWords = map[string]map[string]string{
	"en": {"launched": "Launch requested", "approvals": "Approvals", "approved": "Approved", "portal_requested": "Requested",
		"cred_created": "Credential created", "unsubscribed": "Unsubscribed", "subscription": "Subscription", "login": "Log in"},
	"zh-CN": {"launched": "上架申请已提交", "approvals": "审批", "approved": "已通过", "portal_requested": "已提交申请",
		"cred_created": "凭证已创建", "unsubscribed": "已取消订阅", "subscription": "订阅申请", "login": "登录"},
}

const marketPassword = "Market-Place-Browser-2024"

// TestMarketBrowser drives the API market through the console and the
// developer portal in a real browser, in English and in Chinese, each
// language against a server of its own:
//
//   - a provider launches a service from its Market tab (with a plan made
//     on its Plans tab); the project admin approves it in the inbox; a
//     developer finds it in the portal's catalog and applies with a new
//     application; the project admin approves the subscription; the
//     developer makes a key-auth key and calls the gateway with it; after
//     unsubscribing the call is refused;
//   - the developer applies to a service requiring hmac-auth, the
//     subscription is approved, an HMAC credential is made in the portal
//     and a call signed as docs/gateway.md says succeeds.
func TestMarketBrowser(t *testing.T) {
	t.Parallel() // its own servers and browsers
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			marketFlow(t, lang)
		})
	}
}

// marketSetup makes the people and services: prov (api_provider) and
// padm (project_admin) of the default project, dev (a plain user); the
// service weather (key-auth) published and not listed, and signed
// (hmac-auth) published and listed, neither auto-approving.
func marketSetup(t *testing.T, s *server) (weather, signed string) {
	t.Helper()
	for _, u := range []struct{ name, role string }{{"prov", "api_provider"}, {"padm", "project_admin"}, {"dev", ""}} {
		s.do(t, "POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"role":"user","password":%q}`, u.name, marketPassword), 201, nil)
		if u.role != "" {
			s.do(t, "PUT", "/api/v1/projects/default/members/"+u.name, fmt.Sprintf(`{"role":%q}`, u.role), 200, nil)
		}
	}
	port := echoBackend(t)
	svcs := "/api/v1/projects/default/services"
	mk := func(name, plugin string) string {
		var svc struct{ ID string }
		s.do(t, "POST", svcs, fmt.Sprintf(`{"name":%q,"path":"/%s","plugins":{%s},"upstream":%s}`, name, name, plugin, nodes(port)), 201, &svc)
		s.do(t, "POST", svcs+"/"+svc.ID+"/routes", `{"name":"now","paths":["/now"],"methods":["GET"]}`, 201, nil)
		// The lifecycle: submitted to the test group, published to
		// production, which lists it at once for a super admin.
		s.do(t, "POST", svcs+"/"+svc.ID+"/actions/submit", `{"version":"1.0.0"}`, 200, nil)
		s.do(t, "POST", svcs+"/"+svc.ID+"/actions/publish", "", 200, nil)
		return svc.ID
	}
	weather = mk("weather", `"key-auth":{}`)
	signed = mk("signed", `"hmac-auth":{"clock_skew":300}`)
	// weather leaves the catalog: the provider launches it in the test.
	s.do(t, "DELETE", svcs+"/"+weather+"/listing", `{"comment":"the provider launches it"}`, 202, nil)
	return weather, signed
}

// refused polls the gateway until the call is refused (401 or 403).
func refused(t *testing.T, url string, headers map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, body := gatewayCall(t, "GET", url, "", headers)
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s, want 401 or 403", url, status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// consoleLogin logs the console in as user.
func (u *ui) consoleLogin(user, lang string) {
	u.t.Helper()
	u.open("/lang/" + lang + "?back=/login")
	u.fill("#username", user)
	u.fill("#password", marketPassword)
	u.click("#login")
	u.waitText("#nav-account", user)
}

func (u *ui) consoleLogout(w map[string]string) {
	u.t.Helper()
	u.click("#logout")
	u.waitText("h1", w["login"])
}

// approveFirst opens the first request of the inbox's query as the
// signed-in reviewer and approves it with a comment.
func (u *ui) approveFirst(query, kind, comment string, w map[string]string) {
	u.t.Helper()
	u.open("/approvals?" + query)
	u.waitText("h1", w["approvals"])
	u.waitText("#approvals", kind)
	u.click("#approvals .approval-open")
	u.waitText("#approval-state", "")
	u.fill("#decide-comment", comment)
	u.click("#approve")
	u.waitText("#approval-state", w["approved"])
	u.waitText("#approval-history", comment)
}

// portalSubscribe applies to service with a new application in the
// portal and waits until the request shows among the developer's
// subscriptions.
func (u *ui) portalSubscribe(service, app string, w map[string]string) {
	u.t.Helper()
	u.open("/portal/apis/" + service)
	u.fill("#new_app", app)
	u.fill("#comment", "for the e2e test")
	u.click("#subscribe-submit")
	u.waitText("#flash", w["portal_requested"])
	u.waitText("#my-subs", app)
}

// portalCredential makes a credential of kind on the application of the
// service's first subscription and answers its secret.
func (u *ui) portalCredential(service, kind string, fill map[string]string, w map[string]string) string {
	u.t.Helper()
	u.open("/portal/apis/" + service)
	u.click("#my-subs a")
	u.waitText("h1", "")
	for css, v := range fill {
		u.fill(css, v)
	}
	u.click("#create-" + kind)
	u.waitText("#flash", w["cred_created"])
	return strings.TrimSpace(u.waitText("#secret-value", ""))
}

func marketFlow(t *testing.T, lang string) {
	w := marketWords[lang]
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	weather, signed := marketSetup(t, s)
	u := &ui{t: t, ctx: ctx, s: s}

	// The provider offers a plan and launches the service.
	u.consoleLogin("prov", lang)
	u.open("/p/default/services/" + weather + "/plans")
	u.click("#plan-new")
	u.fill("#plans-card details[open] .plan-name", "basic")
	u.fill("#plans-card details[open] .quota-count", "1000")
	u.do("pick day", chromedp.SetValue(chromedp.CSS("#plans-card details[open] .quota-period"), "day"))
	u.click("#plans-card details[open] .plan-save")
	u.waitText("#plans", "basic")
	u.click("#tab-market")
	u.click("#launch-open")
	u.fill("#launch-comment", "please list it")
	u.click("#launch-submit")
	u.waitText("#flash", w["launched"])
	u.waitText("#detail-version", "1.0.0")
	u.consoleLogout(w)

	// The project admin sees it waiting and approves it.
	u.consoleLogin("padm", lang)
	u.waitText("#nav-badge-approvals", "1")
	u.approveFirst("box=todo&kind=listing", "weather", "ship it", w)
	u.open("/p/default/services/" + weather + "/market")
	u.waitText("#listed-version", "1.0.0")

	// The developer finds it in the portal and applies.
	if status, _, _, err := get(t.Context(), s.Admin+"/portal/signin"); err != nil || status == http.StatusNotFound {
		t.Skipf("the console's part passed; the developer portal is not served at /portal by this binary yet (GET /portal/signin: %d %v)", status, err)
	}
	u.open("/portal/lang/" + lang + "?back=/portal/signin")
	u.fill("#username", "dev")
	u.fill("#password", marketPassword)
	u.click("#signin")
	u.waitText("#catalog", "weather")
	u.portalSubscribe(weather, "dev-app", w)

	// The project admin (still signed in to the console) approves it.
	u.approveFirst("box=todo&kind=subscription", w["subscription"], "welcome", w)

	key := u.portalCredential(weather, "key-auth", nil, w)
	if key == "" {
		u.fail("the portal showed no key")
	}
	url := s.Gateway + "/weather/now"
	until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url, map[string]string{"apikey": key}) })

	u.open("/portal/apis/" + weather)
	u.click("#my-subs button.danger")
	u.waitText("#flash", w["unsubscribed"])
	refused(t, url, map[string]string{"apikey": key})

	// hmac-auth: apply, approve, a credential, a signed call.
	u.portalSubscribe(signed, "signing-app", w)
	u.approveFirst("box=todo&kind=subscription", w["subscription"], "signed calls welcome", w)
	access := "ak-" + strings.ToLower(strings.ReplaceAll(lang, "-", ""))
	secret := u.portalCredential(signed, "hmac-auth", map[string]string{"#access_key": access}, w)
	if secret == "" {
		u.fail("the portal showed no HMAC secret")
	}
	surl := s.Gateway + "/signed/now"
	until(t, 200, func() (int, echoed, string) {
		return gw(t, "GET", surl, recipeSign(access, secret, "GET", "/signed/now", "", time.Now()))
	})
	if status, _, _ := gw(t, "GET", surl, recipeSign(access, "not-the-secret", "GET", "/signed/now", "", time.Now())); status != http.StatusUnauthorized {
		t.Errorf("a call signed with another secret: %d, want 401", status)
	}
}
