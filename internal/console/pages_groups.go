package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// groupRoutes are a gateway group's own page: its gateway instances and
// how far its last change reached them, its TLS certificates, the join
// tokens of its stand-alone gateways, its service registries
// (pages_registries.go), the health of its upstream nodes as each gateway
// checks them, and its history.
func groupRoutes() []pageRoute {
	return append([]pageRoute{
		{pattern: "GET /groups/{g}", perm: rbac.GroupRead, handle: func(q *req) error { return groupView(q, q.groupPage(), 200) }},
		{pattern: "POST /groups/{g}/certificates", perm: rbac.GroupManage, handle: (*req).createCertificate},
		{pattern: "POST /groups/{g}/certificates/{cert}/default", perm: rbac.GroupManage, handle: (*req).defaultCertificate},
		{pattern: "POST /groups/{g}/certificates/{cert}/renew", perm: rbac.GroupManage, handle: (*req).renewCertificate},
		{pattern: "POST /groups/{g}/certificates/{cert}/delete", perm: rbac.GroupManage, handle: (*req).deleteCertificate},
		{pattern: "POST /groups/{g}/tokens", perm: rbac.GatewayManage, handle: (*req).createJoinToken},
		{pattern: "POST /groups/{g}/tokens/{t}/delete", perm: rbac.GatewayManage, handle: (*req).revokeJoinToken},
	}, registryRoutes()...)
}

// instancesPageSize is how many gateway instances one page of the group
// page lists.
const instancesPageSize = 50

// historyPageSize is how many history entries one page lists: the
// recent changes, with a link to older ones.
const historyPageSize = 20

// instancesAnswer is GET /gateway-groups/{g}/instances.
type instancesAnswer struct {
	Items    []spec.GatewayInstance `json:"items"`
	Total    int                    `json:"total"`
	Revision int64                  `json:"revision"`
	Applied  int                    `json:"applied"`
	Live     int                    `json:"live"`
}

// convergenceAnswer is how far a change reached the group's gateways.
type convergenceAnswer struct {
	Revision int64 `json:"revision"`
	Applied  int   `json:"applied"`
	Live     int   `json:"live"`
}

// groupHistoryEntry is a line of GET /gateway-groups/{g}/history.
type groupHistoryEntry struct {
	spec.HistoryEvent
	Convergence *convergenceAnswer `json:"convergence"`
}

// certRow is a certificate with how soon it expires.
type certRow struct {
	spec.Certificate
	Expiry string // ok, expiring (within certWarnDays) or expired
	Days   int    // whole days left, or since it expired
}

// certWarnDays is how early a certificate's coming expiry is flagged:
// time to renew it before clients start refusing the gateways.
const certWarnDays = 30

// certExpiry classifies a certificate's expiry at now.
func certExpiry(notAfter, now time.Time) (state string, days int) {
	if notAfter.IsZero() {
		return "ok", 0
	}
	left := notAfter.Sub(now)
	if left <= 0 {
		return "expired", int(-left / (24 * time.Hour))
	}
	days = int(left / (24 * time.Hour))
	if left < certWarnDays*24*time.Hour {
		return "expiring", days
	}
	return "ok", days
}

// nodeHealthRow is an upstream node as one gateway instance checks it.
type nodeHealthRow struct {
	Instance string
	spec.NodeHealth
}

// registryRow is a service registry connection with what the group's
// instances find of it.
type registryRow struct {
	spec.Registry
}

// groupData is the group page.
type groupData struct {
	Group      spec.GatewayGroup
	Instances  instancesAnswer
	Q          string // the instances' search
	Page, Last int    // the instances' page
	Query      string // the instances' search as a query string, for the pager
	Certs      []certRow
	Tokens     []spec.GatewayToken
	CanTokens  bool
	NewToken   *spec.GatewayToken // the one just made: its token, once
	Registries []registryRow
	Health     []nodeHealthRow
	History    []groupHistoryEntry
	HPage      int // the history's page
	HLast      int
	HTotal     int
	Now        time.Time
}

func (q *req) groupPage() *page {
	p := q.page(q.r.PathValue("g"), "groups")
	return p
}

// groupPath is the admin API path of the page's group.
func (q *req) groupPath() string { return "/gateway-groups/" + url.PathEscape(q.r.PathValue("g")) }

func groupView(q *req, p *page, status int) error {
	d := groupData{Now: time.Now(), Page: 1}
	if nt, ok := p.Data.(*spec.GatewayToken); ok {
		d.NewToken = nt
	}
	gp := q.groupPath()
	if err := q.call("GET", gp, nil, &d.Group); err != nil {
		return err
	}
	p.Title = d.Group.Name
	d.Q = strings.TrimSpace(q.r.URL.Query().Get("q"))
	if n, err := strconv.Atoi(q.r.URL.Query().Get("page")); err == nil && n > 1 && n < 1_000_000 {
		d.Page = n
	}
	iq := url.Values{"page": {strconv.Itoa(d.Page)}, "page_size": {strconv.Itoa(instancesPageSize)}}
	if d.Q != "" {
		iq.Set("q", d.Q)
		d.Query = url.Values{"q": {d.Q}}.Encode()
	}
	if err := q.call("GET", gp+"/instances?"+iq.Encode(), nil, &d.Instances); err != nil {
		return err
	}
	d.Last = max(1, (d.Instances.Total+instancesPageSize-1)/instancesPageSize)
	for _, in := range d.Instances.Items {
		for _, h := range in.UpstreamHealth {
			d.Health = append(d.Health, nodeHealthRow{Instance: in.ID, NodeHealth: h})
		}
	}
	var cl webpage.List[spec.Certificate]
	if err := q.call("GET", gp+"/certificates", nil, &cl); err != nil {
		return err
	}
	for _, c := range cl.Items {
		c.Key = "" // never shown, whatever an answer held
		st, days := certExpiry(c.NotAfter, d.Now)
		d.Certs = append(d.Certs, certRow{Certificate: c, Expiry: st, Days: days})
	}
	if d.CanTokens = p.Can("POST /groups/{g}/tokens"); d.CanTokens {
		var tl webpage.List[spec.GatewayToken]
		if err := q.call("GET", gp+"/tokens", nil, &tl); err != nil {
			return err
		}
		for _, t := range tl.Items {
			t.Token = "" // a list never holds it; the page shows it only from its creation
			d.Tokens = append(d.Tokens, t)
		}
	}
	var rl webpage.List[spec.Registry]
	if err := q.call("GET", gp+"/registries", nil, &rl); err != nil {
		return err
	}
	for _, r := range rl.Items {
		r.Password, r.Token = "", ""
		d.Registries = append(d.Registries, registryRow{Registry: r})
	}
	d.HPage = 1
	if n, err := strconv.Atoi(q.r.URL.Query().Get("history_page")); err == nil && n > 1 && n < 1_000_000 {
		d.HPage = n
	}
	var hl webpage.List[groupHistoryEntry]
	hq := url.Values{"page": {strconv.Itoa(d.HPage)}, "page_size": {strconv.Itoa(historyPageSize)}}
	if err := q.call("GET", gp+"/history?"+hq.Encode(), nil, &hl); err != nil {
		return err
	}
	d.History, d.HTotal, d.HLast = hl.Items, hl.Total, max(1, (hl.Total+historyPageSize-1)/historyPageSize)
	p.Data = d
	q.render(status, "group", p)
	return nil
}

// groupBack is the group page's path.
func (q *req) groupBack() string { return "/groups/" + url.PathEscape(q.r.PathValue("g")) }

func (q *req) createCertificate() error {
	f := q.r.PostForm
	body := spec.Certificate{Name: strings.TrimSpace(f.Get("name")), Chain: strings.TrimSpace(f.Get("certificate")),
		Key: strings.TrimSpace(f.Get("private_key")), Default: f.Get("default") == "on"}
	// The key goes to the admin API and nowhere else: a refused form is
	// shown again without it, so it is never written back into a page.
	delete(q.r.PostForm, "private_key")
	if err := q.call("POST", q.groupPath()+"/certificates", body, nil); err != nil {
		return q.reshow(err, "new-cert", groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "created")
	return nil
}

// renewCertificate replaces a certificate's chain (a renewed one) and,
// when one is given, its key; an empty key field keeps the stored key.
func (q *req) renewCertificate() error {
	f := q.r.PostForm
	body := map[string]string{"certificate": strings.TrimSpace(f.Get("certificate"))}
	if k := strings.TrimSpace(f.Get("private_key")); k != "" {
		body["private_key"] = k
	}
	delete(q.r.PostForm, "private_key") // never shown back, as on upload
	path := q.groupPath() + "/certificates/" + url.PathEscape(q.r.PathValue("cert"))
	if err := q.call("PATCH", path, body, nil); err != nil {
		return q.reshow(err, "renew-"+q.r.PathValue("cert"), groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "saved")
	return nil
}

func (q *req) defaultCertificate() error {
	path := q.groupPath() + "/certificates/" + url.PathEscape(q.r.PathValue("cert"))
	if err := q.call("PATCH", path, map[string]bool{"default": true}, nil); err != nil {
		return q.reshow(err, "", groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "saved")
	return nil
}

func (q *req) deleteCertificate() error {
	path := q.groupPath() + "/certificates/" + url.PathEscape(q.r.PathValue("cert"))
	if err := q.call("DELETE", path, nil, nil); err != nil {
		return q.reshow(err, "", groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "deleted")
	return nil
}

// maxTokenDays bounds a join token's lifetime typed in days, so that the
// expiry stays a time the admin API can store.
const maxTokenDays = 3650

func (q *req) createJoinToken() error {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name"))}
	if s := strings.TrimSpace(f.Get("expires_in_days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxTokenDays {
			msg := q.t("grp.token_days_invalid")
			return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: msg, Fields: map[string]string{"expires_in_days": msg}},
				"new-token", groupView, q.r.PathValue("g"), "groups")
		}
		body["expires_at"] = time.Now().Add(time.Duration(n) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	var out spec.GatewayToken
	if err := q.call("POST", q.groupPath()+"/tokens", body, &out); err != nil {
		return q.reshow(err, "new-token", groupView, q.r.PathValue("g"), "groups")
	}
	// No redirect: this answer is the only one that may show the token.
	p := q.groupPage()
	p.Flash = q.t("grp.token_created")
	p.Data = &out
	return groupView(q, p, http.StatusOK)
}

func (q *req) revokeJoinToken() error {
	path := q.groupPath() + "/tokens/" + url.PathEscape(q.r.PathValue("t"))
	if err := q.call("DELETE", path, nil, nil); err != nil {
		return q.reshow(err, "", groupView, q.r.PathValue("g"), "groups")
	}
	q.redirect(q.groupBack(), "token_revoked")
	return nil
}

// StateClass is the badge colour of a gateway instance's, an upstream
// node's or a certificate's state: green when well, amber when it needs
// watching, red when it fails, grey when it is out of the picture.
func (p *page) StateClass(state string) string {
	switch state {
	case spec.InstanceHealthy, "ok":
		return "s-ok"
	case spec.InstanceLagging, "half_open", "expiring":
		return "s-submitted"
	case spec.InstanceRefused, spec.InstanceLost, "unhealthy", "ejected", "expired":
		return "s-err"
	default:
		return "s-draft"
	}
}

// State says a state of the group page in the page's language; one the
// catalogue does not know is shown as it came.
func (p *page) State(state string) string {
	if key := "grp.state_" + state; messages.Has(key) {
		return p.T(key)
	}
	return state
}

// Ago says how long before now t was, in the page's language ("3 min
// ago"), rounded to the largest whole unit page.Span writes.
func (p *page) Ago(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := max(now.Sub(t), 0)
	switch {
	case d < time.Minute:
		d = d.Truncate(time.Second)
	case d < time.Hour:
		d = d.Truncate(time.Minute)
	default:
		d = d.Truncate(time.Hour)
	}
	if d == 0 {
		return p.T("grp.just_now")
	}
	return strings.Replace(p.T("grp.ago"), "%s", p.Span(d.String()), 1)
}
