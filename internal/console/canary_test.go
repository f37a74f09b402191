package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

func TestCanaryMessagesOverrideNothing(t *testing.T) {
	if len(canaryOverridden) > 0 {
		t.Errorf("canaryMessages redefine %v", canaryOverridden)
	}
}

// canaryOddFields are the canary forms' fields the odd-values test fills.
var canaryOddFields = []string{"rule_kind", "rule_name", "rule_op", "hash_on", "routes",
	"guard_max_error_rate", "guard_min_requests", "guard_window"}

// twoVersions makes publishedService's service (1.0.0 in default) and
// publishes it with another upstream node as 1.1.0 to a staging group,
// so default has a version to canary to (a version target may differ
// from what runs only in its upstream); it answers the service's id.
func twoVersions(t *testing.T, f *fixture) string {
	t.Helper()
	sid := publishedService(t, f)
	if code := f.apiJSON(t, "POST", "/gateway-groups", map[string]any{"name": "staging"}, nil); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}
	svc := "/projects/default/services/" + sid
	if code := f.apiJSON(t, "PATCH", svc, map[string]any{"upstream": map[string]any{"nodes": []map[string]any{{"host": "127.0.0.1", "port": 10}}}}, nil); code != http.StatusOK {
		t.Fatalf("change the upstream: %d", code)
	}
	if code := f.apiJSON(t, "POST", svc+"/publish", map[string]any{"group": "staging", "version": "1.1.0"}, nil); code != http.StatusCreated {
		t.Fatalf("publish 1.1.0: %d", code)
	}
	return sid
}

// startForm is the start form as a person fills it: version 1.1.0 at
// 10 %, one header rule, the list route only, and a guard.
func startForm() url.Values {
	return url.Values{"group": {"default"}, "target": {"version:1.1.0"}, "weight": {"10"},
		"rule_kind": {"header", "header", "header"}, "rule_name": {"X-Canary", "", ""}, "rule_op": {"equals", "equals", "equals"},
		"rule_value": {"yes", "", ""}, "routes": {"list"}, "hash_on": {"cookie:uid"},
		"guard_max_error_rate": {"5"}, "guard_min_requests": {"20"}, "guard_window": {"30s"}}
}

// TestCanaryStartedThroughForm: a canary started through the form with a
// version target, a rule, a route scope and a guard shows them all back,
// and the API holds exactly what the form said.
func TestCanaryStartedThroughForm(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page := "/p/default/services/" + sid + "/canary"
	rec := f.send("GET", page, nil, false)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `value="version:1.1.0" selected`) || !strings.Contains(body, `name="routes" value="list"`) ||
		!strings.Contains(body, `id="guard-rate"`) || !strings.Contains(body, `<label for="new-weight">`) {
		t.Fatalf("start form: %d\n%s", rec.Code, body)
	}
	if rec := f.send("POST", page, startForm(), true); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	var l struct{ Items []spec.Canary }
	f.apiJSON(t, "GET", "/projects/default/services/"+sid+"/canary", nil, &l)
	if len(l.Items) != 1 {
		t.Fatalf("canaries: %+v", l.Items)
	}
	c := l.Items[0]
	if c.Target.Version != "1.1.0" || c.Weight != 10 || len(c.Rules) != 1 || c.Rules[0].Name != "X-Canary" || c.HashOn != "cookie:uid" ||
		len(c.Routes) != 1 || c.Routes[0] != "list" || c.Guard == nil || c.Guard.MaxErrorRate != 0.05 || c.Guard.MinRequests != 20 || c.Guard.Window != "30s" {
		t.Fatalf("what the API holds: %+v guard %+v", c, c.Guard)
	}
	body = f.send("GET", page, nil, false).Body.String()
	for _, want := range []string{`id="canary-running"`, "version 1.1.0", "header <code>X-Canary</code> equals <code>yes</code>",
		"<code>cookie:uid</code>", `<span class="chip">list</span>`, "passes 5.0 % over 30 s, after at least 20 requests",
		"127.0.0.1:10", `id="weight-num"`, "Gateway group default will run version 1.1.0", "goes back to version 1.0.0"} {
		if !strings.Contains(body, want) {
			t.Errorf("running canary lacks %q", want)
		}
	}
	// The weight changes through its form; a weight that is no number is
	// refused beside the field, not sent.
	if rec := f.send("POST", page+"/"+c.ID+"/weight", url.Values{"weight": {"35"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("weight: %d %s", rec.Code, rec.Body)
	}
	if body := f.send("GET", page, nil, false).Body.String(); !strings.Contains(body, `id="canary-weight">35 %`) {
		t.Errorf("weight after the change is not 35 %%")
	}
	if rec := f.send("POST", page+"/"+c.ID+"/weight", url.Values{"weight": {"lots"}}, true); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "whole number from 0 to 100") {
		t.Errorf("weight lots: %d", rec.Code)
	}
	// Chinese.
	zh := httptest.NewRequest("GET", page, nil)
	zh.AddCookie(f.cookie)
	zh.Header.Set("Accept-Language", "zh-CN")
	zrec := httptest.NewRecorder()
	f.h.ServeHTTP(zrec, zh)
	if z := zrec.Body.String(); !strings.Contains(z, "灰度发布") || !strings.Contains(z, "版本 1.1.0") || !strings.Contains(z, "请求头") {
		t.Errorf("Chinese canary tab lacks its words")
	}
	// Cancel: it goes into the earlier ones with who cancelled it.
	if rec := f.send("POST", page+"/"+c.ID+"/cancel", url.Values{}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	body = f.send("GET", page, nil, false).Body.String()
	if !strings.Contains(body, `id="canary-`+c.ID+`"`) || !strings.Contains(body, "cancelled by admin") || !strings.Contains(body, "version 1.1.0") {
		t.Errorf("cancelled canary not shown with its reason and target:\n%s", body)
	}
}

// TestCanaryViewerSeesNoForms: a viewer of the project reads the running
// canary but is offered neither its weight control, its edit form nor
// promote and cancel, nor the start form when none runs.
func TestCanaryViewerSeesNoForms(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	f.mkUser(t, "watcher", "user")
	f.member(t, "default", "watcher", "viewer")
	v := f.as(t, "watcher")
	page := "/p/default/services/" + sid + "/canary"
	if body := v.send("GET", page, nil, false).Body.String(); strings.Contains(body, `id="canary-form"`) || !strings.Contains(body, `id="canary-heading"`) {
		t.Errorf("a viewer is offered the start form, or no tab")
	}
	if rec := f.send("POST", page, startForm(), true); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d", rec.Code)
	}
	body := v.send("GET", page, nil, false).Body.String()
	if !strings.Contains(body, `id="canary-running"`) || !strings.Contains(body, "version 1.1.0") ||
		strings.Contains(body, `id="weight-form"`) || strings.Contains(body, `id="canary-edit-form"`) || strings.Contains(body, `id="canary-promote"`) || strings.Contains(body, `id="canary-cancel"`) {
		t.Errorf("a viewer's running canary: forms shown or canary hidden")
	}
}

// TestCanaryFormRefusals: values the form cannot send are refused beside
// their field; values the admin API refuses come back beside theirs.
func TestCanaryFormRefusals(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page := "/p/default/services/" + sid + "/canary"
	for _, tc := range []struct{ field, value, want string }{
		{"target", "x", "pick a version"},
		{"weight", "ten", "whole number"},
		{"guard_max_error_rate", "NaN", "percentage of failed requests"},
		{"guard_max_error_rate", "Inf", "percentage of failed requests"},
		{"guard_min_requests", "", "whole number of requests"},
		{"guard_window", "2h", "out of range"},
		{"rule_op", "about", "must be equals or matches"},
		{"routes", "nope!", "route name"},
		{"hash_on", "moon", "header:NAME"},
		{"target", "version:9.9.9", "9.9.9"},
	} {
		form := startForm()
		form.Set(tc.field, tc.value)
		rec := f.send("POST", page, form, true)
		if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s=%q: %d, want a refusal saying %q; it says %q", tc.field, tc.value, rec.Code, tc.want, ferrs.FindAllString(rec.Body.String(), -1))
		}
	}
}

// ferrs finds the messages a page shows beside fields and under its banner.
var ferrs = regexp.MustCompile(`class="ferr"[^>]*>[^<]*|<li><code>[^<]*</code>[^<]*`)

// TestCanaryRuleMessageBesideItsRow: a rule's refusal shows beside the
// form row it was typed in, though empty rows before it are not sent.
func TestCanaryRuleMessageBesideItsRow(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	form := startForm()
	form["rule_name"] = []string{"", "", "X-Beta"}
	form["rule_value"] = []string{"", "", "("}
	form["rule_op"] = []string{"equals", "equals", "matches"}
	rec := f.send("POST", "/p/default/services/"+sid+"/canary", form, true)
	body := rec.Body.String()
	row := body[strings.LastIndex(body, `<div class="rule-row">`):]
	row = row[:strings.Index(row, "</div>")]
	if rec.Code != http.StatusBadRequest || !strings.Contains(row, `value="X-Beta"`) || !strings.Contains(row, `class="ferr"`) {
		t.Fatalf("the third row's message is not beside it: %d\n%s", rec.Code, row)
	}
}

// hotTarget reports a target that fails every request it answers.
type hotTarget struct{}

func (hotTarget) TargetFigures(string, time.Duration) (spec.SideFigures, bool) {
	return spec.SideFigures{Requests: 50, Errors: 50, ErrorRate: 1}, true
}

func (hotTarget) CanaryFigures(string) ([]spec.CanaryWindow, bool) { return nil, false }

// TestCanaryCancelledByGuardSaysWhy: when the guard cancels a canary, the
// tab says so, with the guard's finding.
func TestCanaryCancelledByGuardSaysWhy(t *testing.T) {
	f := newFixture(t)
	sid := twoVersions(t, f)
	page := "/p/default/services/" + sid + "/canary"
	if rec := f.send("POST", page, startForm(), true); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	g := release.Guard{Store: f.st, Figures: hotTarget{}}
	if err := g.Check(context.Background()); err != nil {
		t.Fatalf("guard: %v", err)
	}
	body := f.send("GET", page, nil, false).Body.String()
	if strings.Contains(body, `id="canary-running"`) || !strings.Contains(body, "Cancelled by its guard:") ||
		!strings.Contains(body, "error rate was 100.0%") {
		t.Fatalf("guard-cancelled canary does not say why:\n%s", body)
	}
}
