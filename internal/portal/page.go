package portal

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// page is what every template gets; Data is the page's own.
type page struct {
	Lang, User, CSRF, Path string
	Title, Nav             string
	Brand                  string // the portal's title
	Logo                   bool
	Signup                 bool
	Flash, Error           string
	Errors                 map[string]string
	Form                   url.Values // values of a refused form, shown again
	Open                   string     // the form to show open
	Data                   any
	status                 int // the refusal's status, when the page shows one
}

// code is the status a page answers: a refused form's, else 200.
func (pg *page) code() int {
	if pg.status != 0 {
		return pg.status
	}
	return http.StatusOK
}

// T translates a message key into the page's language.
func (pg *page) T(key string) string { return messages.Text(pg.Lang, key) }

// V is the value a refused form had for name.
func (pg *page) V(name string) string { return pg.Form.Get(name) }

// E is the admin API's message for field name, if any.
func (pg *page) E(name string) string { return pg.Errors[name] }

// Is reports whether the form named form should be open.
func (pg *page) Is(form string) bool { return pg.Open == form }

// State is a state's word in the page's language ("pending" → 待审批):
// badges carry words, not only colours.
func (pg *page) State(s string) string {
	if messages.Has("state." + s) {
		return pg.T("state." + s)
	}
	return s
}

// Period is a quota period's word in the page's language.
func (pg *page) Period(s string) string {
	if messages.Has("period." + s) {
		return pg.T("period." + s)
	}
	return s
}

func (q *req) page(title, nav string) *page {
	pg := &page{Lang: q.lang, User: q.user, Path: q.r.URL.RequestURI(), Title: title, Nav: nav,
		Brand: q.p.opts.Title, Logo: q.p.logo != nil, Signup: q.p.opts.Signup}
	if q.token != "" {
		pg.CSRF = adminapi.CSRFToken(q.token)
	}
	if f := q.r.URL.Query().Get("flash"); f != "" && messages.Has("flash."+f) {
		pg.Flash = q.t("flash." + f)
	}
	return pg
}

// reshow shows a refused form again on its page with the admin API's
// detail and field messages and the values that were sent. Errors that
// are not a refusal of the form (401, 5xx, not an API error) go on to
// q.error.
func (q *req) reshow(err error, form string, view func(*page) error, title, nav string) error {
	ae, ok := err.(*webpage.Refusal)
	if !ok || ae.Status == 401 || ae.Status >= 500 {
		return err
	}
	pg := q.page(title, nav)
	pg.Error, pg.Errors, pg.Form, pg.Open, pg.status = ae.Detail, ae.Fields, q.r.PostForm, form, ae.Status
	if pg.Error == "" {
		pg.Error = ae.Title
	}
	return view(pg)
}

var funcs = template.FuncMap{
	// time shows an instant in UTC, labelled: portal users are anywhere.
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"query": url.QueryEscape,
	"path":  url.PathEscape,
	"add":   func(a, b int) int { return a + b },
	"join":  strings.Join,
	"lines": func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") },
	"num":   func(n int64) string { return groupDigits(n) },
	"methods": func() []string {
		return []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	},
	"pretty": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	},
	// pct is how much of a quota is used, 0–100, for a <meter>.
	"pct": func(used, limit int64) int64 {
		if limit <= 0 {
			return 0
		}
		return min(100, used*100/limit)
	},
	"id":    func(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) },
	"ident": credIdent,
	"hasStr": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	// The helpers below hand a partial its page and its own data:
	// templates take one argument.
	"st": func(p *page, s string) stateArg { return stateArg{P: p, S: s} },
	"pager": func(p *page, prev, next string, n, of int) pagerArg {
		return pagerArg{P: p, Prev: prev, Next: next, Page: n, Pages: of}
	},
	"opArg":    func(p *page, service string, op *operation) opArg { return opArg{P: p, Service: service, Op: op} },
	"mediaArg": func(p *page, m media) mediaArg { return mediaArg{P: p, M: m} },
	"nodeArg":  func(p *page, n *schemaNode) nodeArg { return nodeArg{P: p, N: n} },
	"histArg":  func(p *page, h []spec.ApprovalEvent) histArg { return histArg{P: p, H: h} },
	"list":     func(s ...string) []string { return s },
}

type histArg struct {
	P *page
	H []spec.ApprovalEvent
}

type stateArg struct {
	P *page
	S string
}

type pagerArg struct {
	P           *page
	Prev, Next  string
	Page, Pages int
}

type opArg struct {
	P       *page
	Service string
	Op      *operation
}

type mediaArg struct {
	P *page
	M media
}

type nodeArg struct {
	P *page
	N *schemaNode
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
