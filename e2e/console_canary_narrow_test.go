package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleCanaryNarrowScreen: on a 390 px phone screen a provider
// publishes a service, starts a 10 % canary to another upstream, moves it
// to 30 % with the weight control (its range, number and button on one
// line, the page never wider than the screen) and reads the tab in
// Chinese.
func TestConsoleCanaryNarrowScreen(t *testing.T) {
	t.Parallel() // its own server: it runs beside the other parallel tests
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	_, port := backend(t, "shop_server")
	_, port2 := backend(t, "new_shop")
	s.do(t, "POST", "/api/v1/projects/default/upstreams",
		`{"name":"new_shop","nodes":[{"host":"127.0.0.1","port":`+strconv.Itoa(port2)+`}]}`, 201, nil)
	u := &ui{t: t, ctx: ctx, s: s}
	u.do("narrow viewport", chromedp.EmulateViewport(390, 844))
	u.adminLogin()
	measure := func(js string) float64 {
		t.Helper()
		v, err := chromedp.Run(u.ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			u.fail("evaluate %s: %v", js, err)
		}
		return v
	}

	svc := u.publishNewService("shop", "anything", port)
	waitFor(t, s.Gateway+"/anything/x", 10*time.Second, func(st int, b []byte) bool {
		return st == 200 && strings.Contains(string(b), "shop_server")
	})

	u.open("/p/default/services/" + svc + "/canary")
	u.click("#canary-new")
	u.waitText("#canary-target", "new_shop") // the only other place to send traffic, picked
	u.fill("#new-weight", "10")
	u.click("#canary-start")
	u.waitText("#canary-weight", "10 %")
	u.waitText("#canary-running .canary-target", "upstream new_shop")
	u.waitText("#canary-running .canary-target", "127.0.0.1:"+strconv.Itoa(port2))

	// The weight control: one line, typed into, saved.
	top := func(css string) float64 {
		return measure(`document.querySelector("` + css + `").getBoundingClientRect().top + document.querySelector("` + css + `").getBoundingClientRect().height/2`)
	}
	mid := top("#weight-num")
	for _, css := range []string{"#weight-range", "#weight-save"} {
		if d := top(css) - mid; d > 4 || d < -4 {
			u.fail("%s is %.0f px off the weight number's line", css, d)
		}
	}
	u.fill("#weight-num", "30")
	u.click("#weight-save")
	u.waitText("#flash", "Weight changed")
	u.waitText("#canary-weight", "30 %")
	if w := measure(`document.documentElement.scrollWidth`); w > 390 {
		u.fail("the canary tab is %.0f px wide on a 390 px screen", w)
	}

	u.click("#lang-zh")
	u.waitText("#canary-heading", "灰度发布")
	u.waitText("#canary-running .canary-target", "上游 new_shop")
}
