package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleNarrowScreen: on a 390 px phone screen, in both languages,
// the navigation is one row that scrolls sideways (it took five rows),
// the language switch brings the user back to the page they were on, and
// no page scrolls sideways as a whole.
func TestConsoleNarrowScreen(t *testing.T) {
	t.Parallel() // its own server: it runs beside the other parallel tests
	ctx := browser(t)
	s := startServer(t, t.TempDir())
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
	for _, step := range []struct{ lang, switchLink, h1 string }{
		{"en", "", "Services"},
		{"zh-CN", "#lang-zh", "服务"},
	} {
		u.open("/p/default/services")
		if step.switchLink != "" {
			u.click(step.switchLink)
		}
		u.waitText("h1", step.h1) // back on the services page, in the language picked
		link := measure(`document.querySelector("#nav-services").getBoundingClientRect().height`)
		nav := measure(`document.querySelector("nav.nav").getBoundingClientRect().height`)
		if nav > 2*link {
			u.fail("%s: the navigation is %.0f px high, links %.0f px: it wraps instead of scrolling", step.lang, nav, link)
		}
		if w := measure(`document.documentElement.scrollWidth`); w > 390 {
			u.fail("%s: the services page is %.0f px wide on a 390 px screen", step.lang, w)
		}
	}
}
