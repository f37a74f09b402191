package console

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// The fields both canary forms share, the start form and a running
// canary's edit form: which requests the target gets whatever its weight
// (rules), what keeps a client on one side (hash_on), the routes it
// covers and its guard. formSplit reads them, splitValues writes a
// canary's into them, and the "canary-split" template draws them, so the
// two forms cannot drift apart.

// canaryRuleRows is how many rule rows a canary form offers at least; a
// row left empty is no rule.
const canaryRuleRows = 3

// maxRuleRows bounds the rule rows a posted form can make a page draw.
const maxRuleRows = 100

// canarySplit is what the shared fields say, as the admin API takes it.
type canarySplit struct {
	Rules []spec.CanaryRule
	// Rows are the form rows Rules came from (empty rows are no rule),
	// to put the API's rules[k] messages beside the right row.
	Rows   []int
	HashOn string
	Routes []string
	// Guard is nil when the guard fields were all left empty.
	Guard *spec.CanaryGuard
}

// formSplit reads the shared fields of a canary form.
func (q *req) formSplit(f url.Values) (canarySplit, error) {
	var s canarySplit
	kinds, names, ops, values := f["rule_kind"], f["rule_name"], f["rule_op"], f["rule_value"]
	for i := range names {
		r := spec.CanaryRule{Name: strings.TrimSpace(names[i]), Kind: nth(kinds, i), Op: nth(ops, i), Value: nth(values, i)}
		if r.Name == "" && r.Value == "" {
			continue // an empty row is no rule
		}
		s.Rules = append(s.Rules, r)
		s.Rows = append(s.Rows, i)
	}
	s.HashOn = strings.TrimSpace(f.Get("hash_on"))
	s.Routes = f["routes"]
	g, err := q.formGuard(f)
	if err != nil {
		return canarySplit{}, err
	}
	s.Guard = g
	return s, nil
}

// splitValues are the shared fields filled with c's split, as formSplit
// reads them back, and one empty rule row to add a rule with.
func splitValues(c spec.Canary) url.Values {
	v := url.Values{}
	for _, r := range append(slices.Clone(c.Rules), spec.CanaryRule{}) {
		v.Add("rule_kind", r.Kind)
		v.Add("rule_name", r.Name)
		v.Add("rule_op", r.Op)
		v.Add("rule_value", r.Value)
	}
	if c.HashOn != "" {
		v.Set("hash_on", c.HashOn)
	}
	if len(c.Routes) > 0 {
		v["routes"] = slices.Clone(c.Routes)
	}
	if g := c.Guard; g != nil {
		// Typed in percent; rounded so 0.07 shows as 7, not 7.000000000000001.
		v.Set("guard_max_error_rate", strconv.FormatFloat(math.Round(g.MaxErrorRate*100*1e6)/1e6, 'f', -1, 64))
		v.Set("guard_min_requests", strconv.Itoa(g.MinRequests))
		v.Set("guard_window", g.Window)
	}
	return v
}

// formGuard reads the guard fields: none filled is no guard; the error
// rate is typed in percent and sent as the fraction the API takes.
func (q *req) formGuard(f url.Values) (*spec.CanaryGuard, error) {
	rate := strings.TrimSuffix(strings.TrimSpace(f.Get("guard_max_error_rate")), "%")
	minReq := strings.TrimSpace(f.Get("guard_min_requests"))
	window := strings.TrimSpace(f.Get("guard_window"))
	if rate == "" && minReq == "" && window == "" {
		return nil, nil
	}
	pct, err := strconv.ParseFloat(strings.TrimSpace(rate), 64)
	if err != nil || math.IsNaN(pct) || math.IsInf(pct, 0) { // JSON has no NaN or infinity
		return nil, fieldRefusal("guard.max_error_rate", q.t("cy.err_guard_rate"))
	}
	n, err := strconv.Atoi(minReq)
	if err != nil {
		return nil, fieldRefusal("guard.min_requests", q.t("cy.err_guard_min"))
	}
	return &spec.CanaryGuard{MaxErrorRate: pct / 100, MinRequests: n, Window: window}, nil
}

// ruleRowsOf renames the admin API's rules[k] fields of a refusal to the
// form rows the rules came from.
func ruleRowsOf(err error, rows []int) error {
	var ae *webpage.Refusal
	if !errors.As(err, &ae) || len(ae.Problems) == 0 {
		return err
	}
	problems := slices.Clone(ae.Problems)
	for i, p := range problems {
		var k int
		var rest string
		if n, _ := fmt.Sscanf(p.Field, "rules[%d]", &k); n == 1 && k >= 0 && k < len(rows) {
			_, rest, _ = strings.Cut(p.Field, "]")
			problems[i].Field = fmt.Sprintf("rules[%d]%s", rows[k], rest)
		}
	}
	ae.SetFields(problems)
	return err
}

// nth is list[i], or "" past its end (a form may send fewer of one field).
func nth(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return ""
}

// splitFields is what the "canary-split" template draws the shared
// fields of one form from.
type splitFields struct {
	P *page
	// Edit: the running canary's edit form, whose ids are "edit-" and the
	// start form's; the two are never on one page, but ids stay unique
	// anyway.
	Edit bool
	// Form names the form for page.Is: "canary" (start) or "canary-edit".
	Form   string
	Values url.Values
	Rows   []int // rule rows, by index
	Routes []routeChoice
}

// routeChoice is one route checkbox: a route of the service, or a route
// the canary or the refused form named that the service no longer has,
// kept so that saving does not drop it unseen.
type routeChoice struct{ Name, Detail string }

// ID is the element id name has in this form.
func (s splitFields) ID(name string) string {
	if s.Edit {
		return "edit-" + name
	}
	return name
}

// E is the admin API's message for field name, when this is the refused
// form shown again (a refusal of another form is not about these fields).
func (s splitFields) E(name string) string {
	if !s.P.Is(s.Form) {
		return ""
	}
	return s.P.E(name)
}

// newSplitFields fills the shared fields: with what was typed when this
// form is the refused one shown again, else with stored, the running
// canary's split (nil for the start form: empty fields).
func newSplitFields(p *page, edit bool, form string, stored url.Values, routes []spec.Route) splitFields {
	values := stored
	if p.Is(form) {
		values = p.Form
	}
	s := splitFields{P: p, Edit: edit, Form: form, Values: values}
	for i := range min(max(canaryRuleRows, len(values["rule_name"])), maxRuleRows) {
		s.Rows = append(s.Rows, i)
	}
	for _, r := range routes {
		s.Routes = append(s.Routes, routeChoice{Name: r.Name, Detail: strings.TrimSpace(strings.Join(r.Methods, " ") + " " + strings.Join(r.Paths, " "))})
	}
	for _, name := range values["routes"] {
		if !slices.ContainsFunc(s.Routes, func(c routeChoice) bool { return c.Name == name }) && len(s.Routes) < maxRuleRows+len(routes) {
			s.Routes = append(s.Routes, routeChoice{Name: name})
		}
	}
	return s
}

func init() {
	funcs["canaryStartFields"] = func(p *page, routes []spec.Route) splitFields {
		return newSplitFields(p, false, "canary", nil, routes)
	}
	funcs["canaryEditFields"] = func(p *page, routes []spec.Route, c *canaryView) splitFields {
		return newSplitFields(p, true, "canary-edit", splitValues(c.Canary), routes)
	}
	funcs["formAt"] = func(f url.Values, name string, i int) string { return nth(f[name], i) }
	funcs["ruleKinds"] = func() []string { return []string{spec.RuleHeader, spec.RuleCookie, spec.RuleQuery} }
}
