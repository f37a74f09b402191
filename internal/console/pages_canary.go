package console

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// The canary tab of a service: the running canary release with its
// target, rules, route scope, guard and live figures, the forms that
// change its weight and its rules, routes and guard, the form that
// starts one, and the earlier ones with why they ended. The start and
// edit forms share their rules, routes and guard fields (canary_split.go).

// Target choices of the start form's one select: a version of the
// service or a project upstream, told apart by a prefix.
const (
	targetVersion  = "version:"
	targetUpstream = "upstream:"
)

type canaryData struct {
	Running   *canaryView
	Past      []canaryView
	Upstreams []spec.Upstream
}

// canaryView is one canary as the tab shows it: the task and its target
// named as a person knows it.
type canaryView struct {
	spec.Canary
	// TargetKind is "version", "upstream" or "inline"; TargetName the
	// version string or the upstream's name (its id when it is gone).
	TargetKind, TargetName string
	// Addrs are where the target's share went: nodes, a URL or a
	// discovered service.
	Addrs []string
	// ByGuard: the automatic brake cancelled it, Reason says why.
	ByGuard bool
}

func newCanaryView(c spec.Canary, upstreams map[string]string) canaryView {
	v := canaryView{Canary: c}
	switch t := c.Target; {
	case t.Version != "":
		v.TargetKind, v.TargetName = "version", t.Version
	case t.UpstreamID != "":
		v.TargetKind, v.TargetName = "upstream", t.UpstreamID
		if n := upstreams[t.UpstreamID]; n != "" {
			v.TargetName = n
		}
	default:
		v.TargetKind = "inline"
		if t.Upstream != nil {
			v.TargetName = t.Upstream.Name
		}
	}
	u := c.TargetUpstream
	for _, n := range u.Nodes {
		v.Addrs = append(v.Addrs, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	if u.URL != "" {
		v.Addrs = append(v.Addrs, u.URL)
	}
	if d := u.Discovery; d != nil {
		v.Addrs = append(v.Addrs, d.Registry+": "+d.ServiceName)
	}
	v.ByGuard = c.State == spec.CanaryCancelled && strings.HasPrefix(c.Reason, "guard:")
	return v
}

func fillCanary(q *req, d *serviceData) error {
	var cl webpage.List[spec.Canary]
	if err := q.call("GET", q.svcPath()+"/canary?page_size=20", nil, &cl); err != nil {
		return err
	}
	var ul webpage.List[spec.Upstream]
	if err := q.call("GET", "/projects/"+url.PathEscape(d.P.Project)+"/upstreams?page_size=500", nil, &ul); err != nil {
		return err
	}
	names := make(map[string]string, len(ul.Items))
	for _, u := range ul.Items {
		names[u.ID] = u.Name
	}
	cd := canaryData{Upstreams: ul.Items}
	for _, c := range cl.Items {
		v := newCanaryView(c, names)
		if c.State == spec.CanaryRunning && cd.Running == nil {
			cd.Running = &v
			continue
		}
		cd.Past = append(cd.Past, v)
	}
	d.Extra = cd
	return nil
}

// fieldRefusal is the console's own 400 for a form value it cannot turn
// into what the admin API takes, shown beside field like the API's.
func fieldRefusal(field, msg string) error {
	return &webpage.Refusal{Status: http.StatusBadRequest, Detail: msg, Fields: map[string]string{field: msg}}
}

// formWeight reads a weight field: a whole number; the admin API checks
// its range.
func (q *req) formWeight(f url.Values) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(f.Get("weight")), "%"))
	if err != nil {
		return 0, fieldRefusal("weight", q.t("cy.err_weight"))
	}
	return n, nil
}

// canaryBody turns the start form into POST …/canary's body. Only what
// the form was given is sent, so the admin API's defaults apply to the
// rest. rows are the form's rule rows the sent rules came from (empty
// rows are left out), to put the API's messages beside the right row.
func (q *req) canaryBody(f url.Values) (body map[string]any, rows []int, err error) {
	weight, err := q.formWeight(f)
	if err != nil {
		return nil, nil, err
	}
	body = map[string]any{"group": f.Get("group"), "weight": weight}
	if n := strings.TrimSpace(f.Get("name")); n != "" {
		body["name"] = n
	}
	switch t := f.Get("target"); {
	case strings.HasPrefix(t, targetVersion):
		body["target"] = spec.CanaryTarget{Version: strings.TrimPrefix(t, targetVersion)}
	case strings.HasPrefix(t, targetUpstream):
		body["target"] = spec.CanaryTarget{UpstreamID: strings.TrimPrefix(t, targetUpstream)}
	default:
		return nil, nil, fieldRefusal("target", q.t("cy.err_target"))
	}
	sp, err := q.formSplit(f)
	if err != nil {
		return nil, nil, err
	}
	if len(sp.Rules) > 0 {
		body["rules"] = sp.Rules
	}
	if sp.HashOn != "" {
		body["hash_on"] = sp.HashOn
	}
	if len(sp.Routes) > 0 {
		body["routes"] = sp.Routes
	}
	if sp.Guard != nil {
		body["guard"] = sp.Guard
	}
	return body, sp.Rows, nil
}

// canaryEditBody turns a running canary's edit form into PATCH
// …/canary/{id}'s body. The API keeps a member the body leaves out, so
// every member the form shows is sent, empty ones as empty lists and
// strings: a rule row emptied, a route unticked or hash_on cleared is
// then gone from the canary. Guard fields all emptied send remove_guard,
// the API's way to turn the guard off. rows are as canaryBody's.
func (q *req) canaryEditBody(f url.Values) (release.CanaryPatch, []int, error) {
	sp, err := q.formSplit(f)
	if err != nil {
		return release.CanaryPatch{}, nil, err
	}
	rules := append([]spec.CanaryRule{}, sp.Rules...) // not nil, which the API would read as unchanged
	routes := append([]string{}, sp.Routes...)
	return release.CanaryPatch{Rules: &rules, HashOn: &sp.HashOn, Routes: &routes, Guard: sp.Guard, RemoveGuard: sp.Guard == nil}, sp.Rows, nil
}

func (q *req) canaryPost(v view) error {
	f := q.r.PostForm
	base := q.svcPath() + "/canary"
	op, id := q.r.PathValue("op"), url.PathEscape(q.r.PathValue("c"))
	if id != "" && op != "weight" && op != "edit" && op != "cancel" && op != "promote" {
		return &webpage.Refusal{Status: http.StatusNotFound, Detail: q.t("err.no_action")}
	}
	flash := "canary_" + op
	form := "canary-" + op
	err := func() error {
		switch {
		case id == "":
			flash, form = "canary_started", "canary"
			body, rows, err := q.canaryBody(f)
			if err != nil {
				return err
			}
			return ruleRowsOf(q.call("POST", base, body, nil), rows)
		case op == "weight":
			w, err := q.formWeight(f)
			if err != nil {
				return err
			}
			return q.call("PATCH", base+"/"+id, map[string]any{"weight": w}, nil)
		case op == "edit":
			body, rows, err := q.canaryEditBody(f)
			if err != nil {
				return err
			}
			return ruleRowsOf(q.call("PATCH", base+"/"+id, body, nil), rows)
		case op == "cancel":
			return q.call("POST", base+"/"+id+"/cancel", map[string]any{}, nil)
		default: // promote
			body := map[string]any{}
			if ver := strings.TrimSpace(f.Get("version")); ver != "" {
				body["version"] = ver
			}
			return q.call("POST", base+"/"+id+"/promote", body, nil)
		}
	}()
	if err != nil {
		return q.reshow(err, form, v, "", "services")
	}
	q.redirect(q.svcPage()+"/canary", flash)
	return nil
}

// canarySpecView is what the canary-spec partial gets.
type canarySpecView struct {
	P *page
	C canaryView
}

func init() {
	funcs["canarySpec"] = func(p *page, c canaryView) canarySpecView { return canarySpecView{P: p, C: c} }
	funcs["canaryTargetText"] = canaryTargetText
	funcs["canaryPick"] = canaryPick
}

// canaryTargetText names a canary's target in the page's language:
// "version 1.1.0", "upstream shop_v2".
func canaryTargetText(p *page, c canaryView) string {
	return fmt.Sprintf(p.T("cy.target_"+c.TargetKind), c.TargetName)
}

// canaryPick is the start form's target choice: the one a refused form
// had, else the newest version the form's first group does not run (the
// usual next step after a publish to a test group), else the first
// upstream.
func canaryPick(p *page, d *serviceData, upstreams []spec.Upstream) string {
	if v := p.V("target"); v != "" {
		return v
	}
	if len(d.Running) > 0 {
		first := slices.Min(slices.Collect(maps.Keys(d.Running)))
		for _, v := range d.Versions {
			if !slices.Contains(v.Groups, first) {
				return targetVersion + v.Version.Version
			}
		}
	}
	if len(upstreams) > 0 {
		return targetUpstream + upstreams[0].ID
	}
	return ""
}
