package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsolePluginEditor adds key-auth to a service through the policy
// editor in a real browser (pick it from the catalogue, fill the form its
// schema made, save), sees it on the route's effective chain, and finds
// the page's labels in Chinese after the language switch.
func TestConsolePluginEditor(t *testing.T) {
	t.Parallel() // its own server: it runs beside the other parallel tests
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services",
		`{"name":"shop","upstream":{"nodes":[{"host":"127.0.0.1","port":9}]},"routes":[{"name":"items","paths":["/items"]}]}`, 201, &svc)
	u := &ui{t: t, ctx: ctx, s: s}
	u.adminLogin()
	u.open("/p/default/services/" + svc.ID)
	u.click("#open-plugins")
	u.waitText("#plugins-service h2", "Service plugins")
	u.do("pick key-auth", chromedp.SetValue(chromedp.CSS("#plugins-service .add-plugin-name"), "key-auth"))
	u.click("#plugins-service .add-plugin-go")
	u.fill("#plugin-service-key-auth-header", "X-Shop-Key")
	u.click("#plugin-service-key-auth-save")
	u.waitText("#flash", "Plugin saved")
	u.waitText("#plugin-service-key-auth-row", "X-Shop-Key")
	u.waitText("#chain-items", "key-auth")
	u.click("#lang-zh")
	u.waitText("#plugins-service h2", "服务插件")
	u.waitText("#plugins-route-items h3", "生效的插件链")
}
