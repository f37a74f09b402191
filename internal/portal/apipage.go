package portal

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// apiData is the API page: the entry, its rendered documentation, the
// caller's subscriptions to it, the subscribe form and Try it.
type apiData struct {
	E      catalogEntry
	Doc    apiDoc
	Groups []groupRow
	Apps   []spec.Application // the caller's own applications (they subscribe)
	Subs   []subRow
	Try    tryForm
	Result *tryResult
}

// subRow is one of the caller's subscriptions as a page shows it.
type subRow struct {
	spec.Subscription
	AppName, PlanName, ServiceName string
	Usage                          *usageAnswer
}

// Active reports whether the subscription holds or waits for access.
func (s subRow) Active() bool {
	return s.State == spec.SubscriptionPending || s.State == spec.SubscriptionApproved
}

type tryForm struct {
	Method, Path, Headers, APIKey, Body string
}

// tryResult is POST /catalog/{service}/try's answer.
type tryResult struct {
	URL       string                     `json:"url"`
	Status    int                        `json:"status"`
	RawHdrs   map[string]json.RawMessage `json:"headers"`
	RawBody   json.RawMessage            `json:"body"`
	Truncated bool                       `json:"truncated"`
	LatencyMS float64                    `json:"latency_ms"`
	Headers   [][2]string                `json:"-"`
	Body      string                     `json:"-"`
}

func (q *req) servicePath() string { return "/catalog/" + url.PathEscape(q.r.PathValue("service")) }

// loadAPI reads everything the API page shows except Try it's answer.
func (q *req) loadAPI() (*apiData, error) {
	d := &apiData{}
	if err := q.call("GET", q.servicePath(), nil, &d.E); err != nil {
		return nil, err
	}
	var raw []byte
	if err := q.call("GET", q.servicePath()+"/openapi", nil, &raw); err != nil {
		// A listing without a document still shows its plans and URLs.
		if ae, ok := err.(*webpage.Refusal); !ok || ae.Status == http.StatusUnauthorized || ae.Status >= 500 {
			return nil, err
		}
		d.Doc.Err = q.t("api.no_doc")
	} else {
		d.Doc = renderDoc(raw)
	}
	d.Groups = d.E.Groups()
	var apps webpage.List[spec.Application]
	if err := q.call("GET", "/applications?page_size=500", nil, &apps); err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, a := range apps.Items {
		names[a.ID] = a.Name
		if a.ProjectID == "" {
			d.Apps = append(d.Apps, a)
		}
	}
	plans := map[string]string{}
	for _, p := range d.E.Plans {
		plans[p.ID] = p.Name
	}
	for _, s := range d.E.Subscriptions {
		d.Subs = append(d.Subs, subRow{Subscription: s, AppName: or(names[s.ApplicationID], s.ApplicationID), PlanName: or(plans[s.Plan], s.Plan)})
	}
	d.Try = tryForm{Method: "GET", Path: "/"}
	if a := q.r.URL.Query().Get("try"); a != "" {
		for _, g := range d.Doc.Groups {
			for _, op := range g.Ops {
				if op.Anchor == a {
					d.Try = tryForm{Method: op.Method, Path: op.Path, Body: op.Sample}
				}
			}
		}
	}
	return d, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (q *req) apiPage() error {
	d, err := q.loadAPI()
	if err != nil {
		return err
	}
	pg := q.page(d.E.Name, "catalog")
	pg.Data = d
	q.render(200, "api", pg)
	return nil
}

// apiView shows the API page again around a refused form.
func (q *req) apiView(pg *page) error {
	d, err := q.loadAPI()
	if err != nil {
		return err
	}
	pg.Title, pg.Data = d.E.Name, d
	q.render(pg.code(), "api", pg)
	return nil
}

// subscribe subscribes one of the caller's applications, or a new one
// made from the form, to the API with the chosen plan.
func (q *req) subscribe() error {
	f := q.r.PostForm
	var e catalogEntry
	if err := q.call("GET", q.servicePath(), nil, &e); err != nil {
		return err
	}
	app := f.Get("application")
	if name := strings.TrimSpace(f.Get("new_app")); name != "" {
		var a spec.Application
		if err := q.call("POST", "/applications", map[string]string{"name": name}, &a); err != nil {
			if ae, ok := err.(*webpage.Refusal); ok {
				// The application's field errors belong to the new_app field.
				if m := ae.Fields["name"]; m != "" {
					ae.Fields["new_app"] = m
				}
			}
			return q.reshow(err, "subscribe", q.apiView, e.Name, "catalog")
		}
		app = a.ID
	}
	if app == "" {
		return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: q.t("sub.pick_app"),
			Fields: map[string]string{"application": q.t("sub.pick_app")}}, "subscribe", q.apiView, e.Name, "catalog")
	}
	body := map[string]string{"application": app, "service": e.ID}
	if p := f.Get("plan"); p != "" {
		body["plan"] = p
	}
	if c := strings.TrimSpace(f.Get("comment")); c != "" {
		body["comment"] = c
	}
	var s spec.Subscription
	if err := q.call("POST", "/subscriptions", body, &s); err != nil {
		return q.reshow(err, "subscribe", q.apiView, e.Name, "catalog")
	}
	flash := "requested"
	if s.State == spec.SubscriptionApproved {
		flash = "subscribed"
	}
	q.redirect("/portal/apis/"+url.PathEscape(e.ID), flash)
	return nil
}

// unsubscribe ends a subscription (a pending one's request is cancelled)
// and goes back to the page the button was on.
func (q *req) unsubscribe() error {
	if err := q.call("DELETE", "/subscriptions/"+url.PathEscape(q.r.PathValue("id")), nil, nil); err != nil {
		return err
	}
	q.redirect(safeNext(q.r.PostFormValue("back")), "unsubscribed")
	return nil
}

// tryIt sends a request through the service's test group and shows the
// answer on the API page. It is not a redirect: the answer is shown once
// and may carry what the caller's credential opens.
func (q *req) tryIt() error {
	f := q.r.PostForm
	t := tryForm{Method: strings.ToUpper(strings.TrimSpace(f.Get("method"))), Path: strings.TrimSpace(f.Get("path")),
		Headers: f.Get("headers"), APIKey: strings.TrimSpace(f.Get("apikey")), Body: f.Get("body")}
	headers, bad := parseHeaders(t.Headers)
	if t.APIKey != "" {
		headers["apikey"] = t.APIKey
	}
	d, err := q.loadAPI()
	if err != nil {
		return err
	}
	pg := q.page(d.E.Name, "catalog")
	pg.Data, pg.Open = d, "try"
	d.Try = t
	if bad != "" {
		pg.Error = q.t("try.bad_header") + " " + bad
		pg.Errors = map[string]string{"headers": pg.Error}
		q.render(http.StatusBadRequest, "api", pg)
		return nil
	}
	body := map[string]any{"method": t.Method, "path": t.Path, "headers": headers}
	if t.Body != "" {
		body["body"] = t.Body
	}
	var res tryResult
	if err := q.call("POST", q.servicePath()+"/try", body, &res); err != nil {
		ae, ok := err.(*webpage.Refusal)
		if !ok || ae.Status == http.StatusUnauthorized {
			return err
		}
		pg.Error, pg.Errors = or(ae.Detail, ae.Title), ae.Fields
		q.render(ae.Status, "api", pg)
		return nil
	}
	res.fill()
	d.Result = &res
	q.render(200, "api", pg)
	return nil
}

// parseHeaders reads "Name: value" lines; it answers the first bad line.
func parseHeaders(s string) (map[string]string, string) {
	out := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"(),/;<=>?@[\\]{}") {
			return out, text(line, 80)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, ""
}

// fill turns the answer's headers (a string or a list of strings each)
// and body (a string, or JSON) into what the page shows.
func (t *tryResult) fill() {
	for _, k := range sortedKeys(anyKeys(t.RawHdrs)) {
		var s string
		var list []string
		switch {
		case json.Unmarshal(t.RawHdrs[k], &s) == nil:
		case json.Unmarshal(t.RawHdrs[k], &list) == nil:
			s = strings.Join(list, ", ")
		default:
			s = string(t.RawHdrs[k])
		}
		t.Headers = append(t.Headers, [2]string{k, s})
	}
	var s string
	if json.Unmarshal(t.RawBody, &s) != nil {
		s = string(t.RawBody)
	}
	// A JSON answer reads better indented.
	var v any
	if json.Unmarshal([]byte(s), &v) == nil && (strings.HasPrefix(strings.TrimSpace(s), "{") || strings.HasPrefix(strings.TrimSpace(s), "[")) {
		s = pretty(v)
	}
	t.Body = s
}

func anyKeys[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k := range m {
		out[k] = nil
	}
	return out
}

// canSubscribe lists the caller's applications that hold no pending or
// approved subscription to the API: the ones the form offers.
func (d *apiData) CanSubscribe() []spec.Application {
	var out []spec.Application
	for _, a := range d.Apps {
		if !slices.ContainsFunc(d.Subs, func(s subRow) bool { return s.ApplicationID == a.ID && s.Active() }) {
			out = append(out, a)
		}
	}
	return out
}
