package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// page is what every template gets; Data is the page's own.
type page struct {
	Lang, User, CSRF, Path string
	Title, Nav, Project    string
	Flash, Error           string
	ErrorDetail            string // the admin API's own words for Error, in English
	Errors                 map[string]string
	Form                   url.Values // values of a refused form, shown again
	Open                   string     // the dialog (form) to show open
	Data                   any
	Navs                   []navLink // the navigation entries the user may open
	Projects               []string  // the header's project switcher (switcher.go)
	who                    *rbac.Principal
	asked                  map[string]bool // the fields E was asked for (console.go's render)
}

// T translates a message key into the page's language.
func (p *page) T(key string) string { return messages.Text(p.Lang, key) }

// Span writes a window such as "1m0s" (Go's form, as the admin API gives
// it) in the page's language: "1 min", "1 分钟". Anything else is shown as
// it came.
func (p *page) Span(window string) string {
	d, err := time.ParseDuration(window)
	if err != nil || d <= 0 {
		return window
	}
	unit, n := "span.s", d/time.Second
	switch {
	case d%time.Hour == 0:
		unit, n = "span.h", d/time.Hour
	case d%time.Minute == 0:
		unit, n = "span.min", d/time.Minute
	case d%time.Second != 0:
		return window
	}
	return fmt.Sprintf(p.T(unit), n)
}

// V is the value a refused form had for name.
func (p *page) V(name string) string { return p.Form.Get(name) }

// nodeRow is one row of a nodes fieldset (host, port, weight as typed).
type nodeRow struct{ Host, Port, Weight string }

// nodeRows is what the "node-rows" template draws: the rows, then the
// add-a-row button's page.
type nodeRows struct {
	P    *page
	Rows []nodeRow
}

// postedNodeRows are the node rows a form posted, every one of them (the
// nodes fieldset adds rows in the browser), then an empty row to add
// another: a refusal about the second node must not lose it.
func postedNodeRows(form url.Values) []nodeRow {
	hosts, ports, weights := form["node_host"], form["node_port"], form["node_weight"]
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return vs[i]
		}
		return ""
	}
	var rows []nodeRow
	for i := range min(max(len(hosts), len(ports), len(weights)), maxNodeRows) {
		if r := (nodeRow{at(hosts, i), at(ports, i), at(weights, i)}); r != (nodeRow{}) {
			rows = append(rows, r)
		}
	}
	return append(rows, nodeRow{})
}

// maxNodeRows bounds the rows a posted form can make a page draw.
const maxNodeRows = 200

// NodeRows are the rows of the page's new-upstream nodes fieldset: what
// a refused form posted, or one empty row.
func (p *page) NodeRows() nodeRows { return nodeRows{P: p, Rows: postedNodeRows(p.Form)} }

// E is the admin API's message for field name, if any.
func (p *page) E(name string) string {
	if p.asked != nil {
		p.asked[name] = true
	}
	return p.Errors[name]
}

// Unplaced are the refusal's field messages the page has no field to show
// beside (E was not asked for the field nor for its base name): the layout
// lists them under the banner, each with its field's path. A base name
// ("upstream") that only stands for longer paths is not listed itself.
func (p *page) Unplaced() []webpage.FieldProblem {
	if p.asked == nil {
		return nil
	}
	var out []webpage.FieldProblem
	for _, field := range slices.Sorted(maps.Keys(p.Errors)) {
		base := field
		if i := strings.IndexAny(base, ".["); i > 0 {
			base = base[:i]
		}
		if p.asked[field] || p.asked[base] || (base == field && p.hasLonger(field)) {
			continue
		}
		out = append(out, webpage.FieldProblem{Field: field, Message: p.Errors[field]})
	}
	return out
}

// hasLonger reports whether a field error names a member of base.
func (p *page) hasLonger(base string) bool {
	for field := range p.Errors {
		if len(field) > len(base) && strings.HasPrefix(field, base) && strings.ContainsRune(".[", rune(field[len(base)])) {
			return true
		}
	}
	return false
}

// discard is a ResponseWriter that keeps nothing: the first of render's
// two renderings.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// Is reports whether the dialog named form should be open.
func (p *page) Is(form string) bool { return p.Open == form }

func (q *req) page(title, nav string) *page {
	p := &page{Lang: q.lang, User: q.user.Username, CSRF: adminapi.CSRFToken(q.token), Path: q.r.URL.RequestURI(),
		Title: title, Nav: nav, Project: q.r.PathValue("p"), who: q.who}
	if p.Project == "" {
		p.Project = q.homeProject()
	}
	if q.who != nil {
		p.Navs = navFor(q.who, p.Project)
		p.Projects = q.switchProjects()
		q.pendingBadge(p.Navs)
		q.firingBadge(p.Navs, p.Project)
	}
	if f := q.r.URL.Query().Get("flash"); f != "" && messages.Has("flash."+f) {
		p.Flash = q.t("flash." + f)
	}
	return p
}

type view func(q *req, p *page, status int) error

// reshow shows a refused form again on its page, with the admin API's
// detail and field messages, and the values that were sent.
func (q *req) reshow(err error, form string, v view, title, nav string) error {
	var ae *webpage.Refusal
	if !errors.As(err, &ae) || ae.Status == http.StatusUnauthorized || ae.Status >= 500 {
		return err
	}
	p := q.page(title, nav)
	p.Error, p.Errors, p.Form, p.Open = ae.Detail, ae.Fields, q.r.PostForm, form
	return v(q, p, ae.Status)
}

// switchLang keeps the language picked in the header and goes back to the
// page it came from.
func (c *Console) switchLang(w http.ResponseWriter, r *http.Request) {
	webpage.KeepLang(w, r, false)
	http.Redirect(w, r, safeRedirect(r.URL.Query().Get("back")), http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"pct":       func(f float64) string { return fmt.Sprintf("%.1f %%", f*100) },
	"ms":        func(f float64) string { return fmt.Sprintf("%.1f ms", f) },
	"has":       func(list []string, s string) bool { return slices.Contains(list, s) },
	"placement": placementText,
	"parameter": parameterText,
	"constant":  constantText,
	"flowsteps": flowSteps,
	"stepsOf":   stepsOf,
	"routeCell": func(p *page, r spec.Route) routeCell { return routeCell{P: p, R: r} },
	"add":       func(a, b int) int { return a + b },
	"windows":   func() []string { return []string{"1m0s", "5m0s", "15m0s"} },
	"methods":   func() []string { return []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} },
	// dict2 hands the route form its page, route (nil: a new one) and action.
	"dict2": func(p *page, r any, action string) routeForm {
		rf := routeForm{P: p, Action: action, Form: "new-route"}
		if rt, ok := r.(spec.Route); ok {
			rf.R, rf.Form = &rt, "route-"+rt.ID
		}
		return rf
	},
	"pretty": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	},
	"prettyRaw": func(raw json.RawMessage) string {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return string(raw)
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
}

type routeForm struct {
	P      *page
	R      *spec.Route
	Action string
	Form   string
}

// E and V show a refused route's messages and values on its own form only.
func (rf routeForm) E(name string) string {
	if rf.P.Open != rf.Form {
		return ""
	}
	return rf.P.E(name)
}

func (rf routeForm) V(name string) string {
	if rf.P.Open != rf.Form {
		return ""
	}
	return rf.P.V(name)
}

// editForm is the values of a form editing a stored T: the refused form's
// when it is the one shown again (Form names it), else the stored
// object's, which field reads. Secrets are fields V never gives a value
// for, typed or stored (a password, a token), so no page can render one.
type editForm[T any] struct {
	P       *page
	Form    string
	Stored  T
	field   func(T, string) string
	secrets []string
}

// V is the value of field name.
func (f editForm[T]) V(name string) string {
	switch {
	case slices.Contains(f.secrets, name):
		return ""
	case f.P.Open == f.Form && f.P.Form != nil:
		return f.P.V(name)
	}
	return f.field(f.Stored, name)
}

// E is the admin API's message for field name on this form.
func (f editForm[T]) E(name string) string {
	if f.P.Open != f.Form {
		return ""
	}
	return f.P.E(name)
}
