package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's chromium headless against the real
// binary. They skip only when chromium is absent and
// PORTICO_REQUIRE_BROWSER is unset (.ci/run sets it).
const chromiumPath = "/usr/bin/chromium"

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PORTICO_REQUIRE_BROWSER") != "" {
			t.Fatalf("PORTICO_REQUIRE_BROWSER is set but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("browser tests skipped: %s not found (apt-get install -y chromium; set PORTICO_REQUIRE_BROWSER=1 to make this a failure)", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	// Start the browser on this context: a tab started under a step's
	// shorter context would die with it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// ui wraps one tab with helpers that fail the test with a screenshot.
type ui struct {
	t   *testing.T
	ctx context.Context
	s   *server
}

// adminLogin signs the console in as the server's admin, in English.
func (u *ui) adminLogin() {
	u.t.Helper()
	u.open("/lang/en?back=/login")
	u.fill("#username", "admin")
	u.fill("#password", u.s.Password)
	u.click("#login")
	u.waitText("h1", "Dashboard")
}

func (u *ui) fail(format string, args ...any) {
	u.t.Helper()
	dir := os.Getenv("PORTICO_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	name := filepath.Join(dir, "console-"+strings.ReplaceAll(u.t.Name(), "/", "_")+".png")
	if png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(80)); err == nil {
		if os.WriteFile(name, png, 0o644) == nil {
			u.t.Logf("screenshot of the failure: %s", name)
		}
	}
	if loc, err := chromedp.Run(u.ctx, chromedp.Location()); err == nil {
		u.t.Logf("page: %s", loc)
	}
	u.t.Fatalf(format, args...)
}

func (u *ui) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.fail("%s: %v", what, err)
	}
}

func (u *ui) open(path string) {
	u.t.Helper()
	u.do("open "+path, chromedp.Navigate(u.s.Admin+path))
}

func (u *ui) click(css string) {
	u.t.Helper()
	u.do("click "+css, chromedp.Click(chromedp.CSS(css)))
}

func (u *ui) fill(css, value string) {
	u.t.Helper()
	u.do("fill "+css, chromedp.SetValue(chromedp.CSS(css), value))
}

// waitText polls until the element's text contains want: a click that
// submits a form replaces the page, and the old page may have the same element.
func (u *ui) waitText(css, want string) string {
	u.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(u.ctx, 2*time.Second)
		txt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		cancel()
		if err == nil && strings.Contains(txt, want) {
			return txt
		}
		last = txt
		time.Sleep(100 * time.Millisecond)
	}
	u.fail("%s: text %q does not contain %q", css, last, want)
	return ""
}

// publishNewService creates service name in the default project with a
// GET route named route on /anything/*, publishes version 1.0.0 of it to
// the node 127.0.0.1:port, all by clicks, and returns the service's id.
func (u *ui) publishNewService(name, route string, port int) string {
	u.t.Helper()
	u.open("/p/default/services")
	u.click("#add-service")
	u.fill("#svc-name", name)
	u.click("#svc-create")
	u.waitText("#flash", "Created")
	svc := u.serviceID()
	u.click("#add-route")
	u.fill("details[open] .rt-name", route)
	u.fill("details[open] .rt-paths", "/anything/*")
	u.click("details[open] .m-GET")
	u.click("details[open] .rt-save")
	u.waitText("#routes", route)
	u.click("#publish-new")
	u.fill("#pub-version", "1.0.0")
	u.fill("details[open] input[name=node_host]", "127.0.0.1")
	u.fill("details[open] input[name=node_port]", strconv.Itoa(port))
	u.click("#pub-submit")
	u.waitText("#flash", "Published")
	return svc
}

func (u *ui) serviceID() string {
	u.t.Helper()
	loc, err := chromedp.Run(u.ctx, chromedp.Location())
	if err != nil {
		u.fail("location: %v", err)
	}
	i := strings.Index(loc, "/services/")
	if i < 0 {
		u.fail("not on a service page: %s", loc)
	}
	id, _, _ := strings.Cut(loc[i+len("/services/"):], "?")
	id, _, _ = strings.Cut(id, "/")
	return id
}

func TestConsoleBrowser(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	_, port := backend(t, "shop_server")
	_, port2 := backend(t, "new_shop")
	u := &ui{t: t, ctx: ctx, s: s}
	u.open("/lang/en?back=/")

	t.Run("login", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/login")
		u.fill("#username", "admin")
		u.fill("#password", s.Password)
		u.click("#login")
		u.waitText("h1", "Dashboard")
	})

	var svc string
	t.Run("service_route_publish", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		svc = u.publishNewService("httpbin", "getting-started-anything", port)
		u.waitText("#history", "1.0.0")
		waitFor(t, s.Gateway+"/anything/publish", 10*time.Second, func(st int, b []byte) bool {
			return st == 200 && strings.Contains(string(b), "shop_server")
		})
	})

	t.Run("debug_and_description", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/p/default/services/" + svc + "/debug")
		u.fill("#dbg-path", "/anything/debug")
		u.click("#dbg-send")
		u.waitText("#dbg-status", "200")
		u.waitText("#dbg-body", "shop_server")
		u.open("/p/default/services/" + svc + "/spec")
		u.waitText("#spec-ops", "/anything/")
		u.waitText("#spec-yaml", "openapi:")
		u.open("/p/default/services/" + svc + "/stats")
		u.waitText("#stats-requests", "")
	})

	t.Run("canary_10_20_full_release", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/p/default/upstreams")
		u.click("#new-upstream")
		u.fill("#ups-name", "new_shop")
		u.fill("details[open] input[name=node_host]", "127.0.0.1")
		u.fill("details[open] input[name=node_port]", strconv.Itoa(port2))
		u.click("#ups-create")
		u.waitText("#flash", "Created")
		u.open("/p/default/services/" + svc + "/canary")
		u.click("#canary-new")
		u.fill("#new-weight", "10")
		u.click("#canary-start")
		u.waitText("#canary-weight", "10 %")
		u.fill("#weight-num", "20")
		u.click("#weight-save")
		u.waitText("#canary-weight", "20 %")
		u.click("#canary-promote")
		u.click("#confirm-promote")
		u.waitText("#canary-past", "completed")
		waitFor(t, s.Gateway+"/anything/after", 10*time.Second, func(st int, b []byte) bool {
			return st == 200 && strings.Contains(string(b), "new_shop")
		})
	})

	t.Run("lifecycle_buttons", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/p/default/services")
		u.click("#add-service")
		u.fill("#svc-name", "lifecycle_api")
		u.fill("details[open] input[name=node_host]", "127.0.0.1")
		u.fill("details[open] input[name=node_port]", strconv.Itoa(port))
		u.click("#svc-create")
		u.waitText("#flash", "Created")
		u.click("#add-route")
		u.fill("details[open] .rt-name", "get_products")
		u.click("details[open] .m-GET")
		u.click("details[open] .rt-save")
		u.waitText("#routes", "get_products")
		for _, step := range []struct{ action, state string }{
			{"submit", "submitted"}, {"publish", "published"}, {"disable", "disabled"}, {"enable", "published"},
		} {
			u.click("#act-" + step.action)
			u.click("#confirm-" + step.action)
			u.waitText("h1 .badge", step.state)
		}
	})

	t.Run("openapi_import_with_preview", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/p/default/import")
		u.fill("#imp-doc", fmt.Sprintf("openapi: 3.0.3\ninfo: {title: petstore, version: 1.0.0}\nservers: [{url: 'http://127.0.0.1:%d'}]\npaths:\n  /pets:\n    get: {operationId: listPets, responses: {'200': {description: ok}}}\n  /pets/{id}:\n    get: {operationId: getPet, parameters: [{name: id, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}\n", port))
		u.click("#imp-preview")
		u.waitText("#imp-action", "create")
		u.waitText("#imp-report", "listPets")
		u.click("#imp-apply")
		u.waitText("#flash", "Imported")
		u.waitText("#routes", "getPet")
	})

	t.Run("chinese_console", func(t *testing.T) {
		u := &ui{t: t, ctx: ctx, s: s}
		u.open("/lang/zh-CN?back=/p/default/services")
		u.waitText("#add-service", "新建服务")
		u.open("/p/default/services/" + svc)
		u.waitText("#publish-new", "发布新版本")
		u.waitText("#tab-canary", "灰度发布")
		u.open("/p/default/services?q=lifecycle")
		u.waitText("#services", "lifecycle_api")
		u.click("#services a")
		u.waitText("#act-disable", "下线")
		u.open("/lang/en?back=/")
	})
}
