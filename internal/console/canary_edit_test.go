package console

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// runningCanary starts startForm's canary on twoVersions' service through
// the start form and answers the tab's path and the canary as the admin
// API holds it.
func runningCanary(t *testing.T, f *fixture, sid string) (string, spec.Canary) {
	t.Helper()
	page := "/p/default/services/" + sid + "/canary"
	if rec := f.send("POST", page, startForm(), true); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	return page, onlyRunning(t, f, sid)
}

// onlyRunning is the service's running canary, read through the admin API.
func onlyRunning(t *testing.T, f *fixture, sid string) spec.Canary {
	t.Helper()
	var l struct{ Items []spec.Canary }
	f.apiJSON(t, "GET", "/projects/default/services/"+sid+"/canary", nil, &l)
	for _, c := range l.Items {
		if c.State == spec.CanaryRunning {
			return c
		}
	}
	t.Fatalf("no running canary in %+v", l.Items)
	return spec.Canary{}
}

// canaryEditValues is the edit form as the page fills it for startForm's canary:
// its rule, one empty row, hash_on, the list route and the guard.
func canaryEditValues() url.Values {
	return url.Values{"rule_kind": {"header", ""}, "rule_name": {"X-Canary", ""}, "rule_op": {"equals", ""}, "rule_value": {"yes", ""},
		"hash_on": {"cookie:uid"}, "routes": {"list"},
		"guard_max_error_rate": {"5"}, "guard_min_requests": {"20"}, "guard_window": {"30s"}}
}

// TestCanaryEditFormShowsTheCanary: the running canary's edit form is
// filled with its rules, hash_on, routes and guard, each field labelled,
// and splitValues, which fills it, is what formSplit reads back.
func TestCanaryEditFormShowsTheCanary(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page, c := runningCanary(t, f, sid)
	body := f.send("GET", page, nil, false).Body.String()
	i := strings.Index(body, `<details class="confirm" id="canary-edit"`)
	if i < 0 {
		t.Fatalf("no edit form on the running canary:\n%s", body)
	}
	form := body[i : i+strings.Index(body[i:], "</form>")]
	for _, want := range []string{`action="/p/default/services/` + sid + `/canary/` + c.ID + `/edit"`,
		`aria-label="Name" placeholder="Name" value="X-Canary"`, `value="yes"`,
		`id="edit-canary-hash-on" value="cookie:uid"`, `name="routes" value="list" checked`,
		`id="edit-guard-rate" min="0" max="99.9" step="any" inputmode="decimal" value="5"`,
		`id="edit-guard-min" min="1" step="1" inputmode="numeric" value="20"`, `id="edit-guard-window" value="30s"`,
		"Empty all three fields to remove the guard."} {
		if !strings.Contains(form, want) {
			t.Errorf("edit form lacks %q", want)
		}
	}
	// The canary's rule and an empty row to add one with, made up to the
	// start form's three rows.
	if n := strings.Count(form, `<div class="rule-row">`); n != canaryRuleRows {
		t.Errorf("edit form has %d rule rows, want %d", n, canaryRuleRows)
	}
	if !reflect.DeepEqual(splitValues(c), canaryEditValues()) {
		t.Errorf("splitValues = %v, want %v", splitValues(c), canaryEditValues())
	}
	q := &req{lang: "en"}
	sp, err := q.formSplit(splitValues(c))
	if err != nil || !reflect.DeepEqual(sp.Rules, c.Rules) || sp.HashOn != c.HashOn || !reflect.DeepEqual(sp.Routes, c.Routes) || !reflect.DeepEqual(sp.Guard, c.Guard) {
		t.Errorf("formSplit(splitValues(c)) = %+v (%v), want the canary's split %+v", sp, err, c)
	}
	// Every field of the form is named by a label around it or an
	// aria-label.
	inLabel := false
	for _, tag := range fieldTags.FindAllString(form, -1) {
		switch {
		case strings.HasPrefix(tag, "<label"):
			inLabel = true
		case tag == "</label>":
			inLabel = false
		case !inLabel && !strings.Contains(tag, "aria-label=") && !strings.Contains(tag, `type="hidden"`):
			t.Errorf("field without a label: %s", tag)
		}
	}
}

// fieldTags finds a page's form fields and the labels around them.
var fieldTags = regexp.MustCompile(`<label[^>]*>|</label>|<input[^>]*>|<select[^>]*>|<textarea[^>]*>`)

// TestCanaryEditedThroughForm: each change made in the edit form is what
// the admin API holds afterwards, and only that: the weight, the target
// and the members the change did not touch stay.
func TestCanaryEditedThroughForm(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		want   func(*spec.Canary) // from the started canary to what the edit makes it
		shows  string             // what the running canary's summary then says
		gone   string             // what it no longer says
	}{
		{"rule changed",
			func(v url.Values) {
				v["rule_kind"], v["rule_name"], v["rule_op"], v["rule_value"] = []string{"cookie", ""}, []string{"beta", ""}, []string{"matches", ""}, []string{"^1$", ""}
			},
			func(c *spec.Canary) {
				c.Rules = []spec.CanaryRule{{Kind: "cookie", Name: "beta", Op: "matches", Value: "^1$"}}
			},
			"cookie <code>beta</code> matches (regular expression) <code>^1$</code>", ""},
		{"rule added in the empty row",
			func(v url.Values) {
				v["rule_kind"][1], v["rule_name"][1], v["rule_op"][1], v["rule_value"][1] = "query", "beta", "equals", "on"
			},
			func(c *spec.Canary) {
				c.Rules = append(c.Rules, spec.CanaryRule{Kind: "query", Name: "beta", Op: "equals", Value: "on"})
			},
			"query parameter <code>beta</code> equals <code>on</code>", ""},
		{"rules emptied",
			func(v url.Values) { v["rule_name"], v["rule_value"] = []string{"", ""}, []string{"", ""} },
			func(c *spec.Canary) { c.Rules = nil },
			"none (the weight alone decides)", "<code>X-Canary</code>"},
		{"hash_on cleared",
			func(v url.Values) { v.Set("hash_on", "") },
			func(c *spec.Canary) { c.HashOn = "" },
			"", `class="canary-hash"`},
		{"routes unticked",
			func(v url.Values) { v.Del("routes") },
			func(c *spec.Canary) { c.Routes = nil },
			`<dd class="canary-routes">all routes</dd>`, `<span class="chip">list</span>`},
		{"guard changed",
			func(v url.Values) {
				v.Set("guard_max_error_rate", "12.5")
				v.Set("guard_min_requests", "50")
				v.Set("guard_window", "2m")
			},
			func(c *spec.Canary) { c.Guard = &spec.CanaryGuard{MaxErrorRate: 0.125, MinRequests: 50, Window: "2m"} },
			"passes 12.5 % over 2 min, after at least 50 requests", ""},
		{"guard removed",
			func(v url.Values) {
				v.Set("guard_max_error_rate", "")
				v.Set("guard_min_requests", "")
				v.Set("guard_window", "")
			},
			func(c *spec.Canary) { c.Guard = nil },
			`<dd class="canary-guard">none</dd>`, "passes 5.0 %"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, c := runningCanary(t, f, sid)
			defer f.apiJSON(t, "POST", "/projects/default/services/"+sid+"/canary/"+c.ID+"/cancel", map[string]any{}, nil)
			form := canaryEditValues()
			tc.change(form)
			rec := f.send("POST", page+"/"+c.ID+"/edit", form, true)
			if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=canary_edit") {
				t.Fatalf("edit: %d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
			}
			got := onlyRunning(t, f, sid)
			tc.want(&c)
			if !reflect.DeepEqual(normalSplit(got), normalSplit(c)) || got.ID != c.ID || got.Weight != 10 || got.Target.Version != "1.1.0" {
				t.Errorf("after the edit the API holds\n%+v guard %+v\nwant\n%+v guard %+v", normalSplit(got), got.Guard, normalSplit(c), c.Guard)
			}
			body := f.send("GET", rec.Header().Get("Location"), nil, false).Body.String()
			if !strings.Contains(body, "Canary changed.") || !strings.Contains(body, tc.shows) {
				t.Errorf("the tab after the edit lacks the flash or %q", tc.shows)
			}
			if summary := body[strings.Index(body, `<dl class="canary-spec">`):strings.Index(body, "</dl>")]; tc.gone != "" && strings.Contains(summary, tc.gone) {
				t.Errorf("the running canary still says %q", tc.gone)
			}
		})
	}
}

// normalSplit is c's split with empty lists as nil, for comparing.
func normalSplit(c spec.Canary) canarySplit {
	s := canarySplit{Rules: c.Rules, HashOn: c.HashOn, Routes: c.Routes, Guard: c.Guard}
	if len(s.Rules) == 0 {
		s.Rules = nil
	}
	if len(s.Routes) == 0 {
		s.Routes = nil
	}
	return s
}

// TestCanaryEditRefusalKeepsInput: an edit the console or the admin API
// refuses shows the edit form again, open, with what was typed and the
// message beside its field, in English and Chinese; the canary is
// unchanged.
func TestCanaryEditRefusalKeepsInput(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page, c := runningCanary(t, f, sid)
	for _, tc := range []struct {
		lang   string
		change func(url.Values)
		kept   string // the typed value, as the form shows it again
		field  string // the element the message must follow
		want   string // the message
	}{
		{"en", func(v url.Values) { v.Set("guard_max_error_rate", "lots") }, `id="edit-guard-rate" min="0" max="99.9" step="any" inputmode="decimal" value="lots"`,
			`id="edit-guard-window"`, "must be a number: the percentage of failed requests"},
		{"zh-CN", func(v url.Values) { v.Set("guard_max_error_rate", "lots") }, `value="lots"`, `id="edit-guard-window"`, "须为数字：失败请求的百分比"},
		{"en", func(v url.Values) { v.Set("guard_window", "2h") }, `id="edit-guard-window" value="2h"`, `id="edit-guard-window"`, "is out of range"},
		{"zh-CN", func(v url.Values) { v.Set("guard_window", "2h") }, `id="edit-guard-window" value="2h"`, `id="edit-guard-window"`, "超出允许的范围"},
		{"en", func(v url.Values) { v.Set("hash_on", "moon") }, `id="edit-canary-hash-on" value="moon"`, `id="edit-canary-hash-on"`, "header:NAME"},
		// The API's rules[0] is the form's second row: the message is beside that row.
		{"en", func(v url.Values) {
			v["rule_kind"], v["rule_name"], v["rule_value"], v["rule_op"] = []string{"header", "header"}, []string{"", "X-Beta"}, []string{"", "("}, []string{"equals", "matches"}
		}, `value="X-Beta"`, `value="X-Beta"`, "not a valid regular expression"},
		{"zh-CN", func(v url.Values) { v.Add("routes", "ghost") }, `name="routes" value="ghost" checked`, `id="edit-canary-routes"`, "no route &#34;ghost&#34;"},
	} {
		form := canaryEditValues()
		tc.change(form)
		rec := f.postIn(page+"/"+c.ID+"/edit", form, tc.lang)
		body := rec.Body.String()
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s %v: %d, want 400", tc.lang, form, rec.Code)
			continue
		}
		i := strings.Index(body, `<details class="confirm" id="canary-edit" open>`)
		if i < 0 {
			t.Errorf("%s %v: the edit form is not shown open again", tc.lang, form)
			continue
		}
		edit := body[i : i+strings.Index(body[i:], "</form>")]
		if !strings.Contains(edit, tc.kept) {
			t.Errorf("%s %v: the form lost %q", tc.lang, form, tc.kept)
		}
		at := strings.Index(edit, tc.field)
		if at < 0 || !strings.Contains(edit[at:], `class="ferr"`) || !strings.Contains(edit[at:], tc.want) {
			t.Errorf("%s %v: no message %q beside %s; messages: %q", tc.lang, form, tc.want, tc.field, ferrs.FindAllString(edit, -1))
		}
		if tc.lang == "zh-CN" && !strings.Contains(edit, "保存修改") {
			t.Errorf("%s: the form is not in Chinese", tc.lang)
		}
		if got := onlyRunning(t, f, sid); !reflect.DeepEqual(normalSplit(got), normalSplit(c)) {
			t.Errorf("%s %v: a refused edit changed the canary to %+v", tc.lang, form, got)
		}
	}
}

// TestCanaryEditOddValues: odd values in every field of a running
// canary's edit form are a page or a redirect, never a 5xx.
func TestCanaryEditOddValues(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page, c := runningCanary(t, f, sid)
	odd := []string{"", " ", "x", "-1", "0", "99999999999999999999", "1.5", "NaN", "Inf", "<script>", "%00", "\x00", strings.Repeat("a", 5000), "名字"}
	fields := append([]string{"rule_value"}, canaryOddFields...)
	for i := range odd {
		form := url.Values{}
		for j, k := range fields {
			form.Set(k, odd[(i+j)%len(odd)])
		}
		if rec := f.send("POST", page+"/"+c.ID+"/edit", form, true); rec.Code >= 500 {
			t.Errorf("edit with %v: %d %.300s", form, rec.Code, rec.Body)
		}
	}
	if body := f.send("GET", page, nil, false).Body.String(); !strings.Contains(body, `id="canary-edit-form"`) {
		t.Errorf("the canary tab lost its edit form after odd edits")
	}
}
