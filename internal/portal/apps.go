package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// credentialTypes are the kinds of credential the portal makes; oauth2
// and mtls-auth stay with the console (they need more than a form).
var credentialTypes = []string{spec.CredKeyAuth, spec.CredHMACAuth, spec.CredBasicAuth, spec.CredJWTAuth}

func (q *req) appsPage() error { return q.appsView(q.page(q.t("nav.apps"), "apps")) }

func (q *req) appsView(pg *page) error {
	var list webpage.List[spec.Application]
	if err := q.call("GET", "/applications?page_size=500", nil, &list); err != nil {
		return err
	}
	pg.Data = list.Items
	q.render(pg.code(), "apps", pg)
	return nil
}

func (q *req) createApp() error {
	f := q.r.PostForm
	body := map[string]string{"name": strings.TrimSpace(f.Get("name")), "description": strings.TrimSpace(f.Get("description"))}
	var a spec.Application
	if err := q.call("POST", "/applications", body, &a); err != nil {
		return q.reshow(err, "new-app", q.appsView, q.t("nav.apps"), "apps")
	}
	q.redirect("/portal/apps/"+url.PathEscape(a.ID), "created")
	return nil
}

func (q *req) deleteApp() error {
	if err := q.call("DELETE", "/applications/"+url.PathEscape(q.r.PathValue("a")), nil, nil); err != nil {
		return q.reshow(err, "", q.appsView, q.t("nav.apps"), "apps")
	}
	q.redirect("/portal/apps", "deleted")
	return nil
}

// appData is an application's page.
type appData struct {
	App   spec.Application
	Creds []spec.Credential
	Subs  []subRow
	Types []string
	// New is the credential just made or rotated: the only answer that
	// shows its secret.
	New *spec.Credential
}

func (q *req) appPath() string { return "/applications/" + url.PathEscape(q.r.PathValue("a")) }

func (q *req) appPage() error { return q.appView(q.page(q.t("nav.apps"), "apps")) }

func (q *req) appView(pg *page) error {
	d := appData{Types: credentialTypes}
	if nc, ok := pg.Data.(*spec.Credential); ok {
		d.New = nc
	}
	if err := q.call("GET", q.appPath(), nil, &d.App); err != nil {
		return err
	}
	var creds webpage.List[spec.Credential]
	if err := q.call("GET", q.appPath()+"/credentials", nil, &creds); err != nil {
		return err
	}
	d.Creds = creds.Items
	var subs webpage.List[spec.Subscription]
	if err := q.call("GET", "/subscriptions?page_size=500&application="+url.QueryEscape(d.App.ID), nil, &subs); err != nil {
		return err
	}
	names := q.serviceNames()
	for _, s := range subs.Items {
		d.Subs = append(d.Subs, subRow{Subscription: s, ServiceName: or(names[s.ServiceID], s.ServiceID)})
	}
	pg.Title, pg.Data = d.App.Name, d
	q.render(pg.code(), "app", pg)
	return nil
}

// serviceNames maps the catalog's service ids to names; a service no
// longer listed shows by id. A failure costs the names, not the page.
func (q *req) serviceNames() map[string]string {
	var list webpage.List[catalogEntry]
	names := map[string]string{}
	if err := q.call("GET", "/catalog?page_size=500", nil, &list); err != nil {
		return names
	}
	for _, e := range list.Items {
		names[e.ID] = e.Name
	}
	return names
}

func (q *req) createCredential() error {
	f := q.r.PostForm
	typ := f.Get("type")
	cr := spec.Credential{Type: typ}
	switch typ {
	case spec.CredKeyAuth:
		cr.Key = strings.TrimSpace(f.Get("key"))
	case spec.CredBasicAuth:
		cr.Username = strings.TrimSpace(f.Get("username"))
	case spec.CredHMACAuth:
		cr.AccessKey = strings.TrimSpace(f.Get("access_key"))
	case spec.CredJWTAuth:
		cr.Key = strings.TrimSpace(f.Get("jwt_key"))
		cr.Algorithm = f.Get("algorithm")
		if cr.Algorithm == "RS256" || cr.Algorithm == "ES256" {
			cr.Secret = strings.TrimSpace(f.Get("public_key"))
		}
	}
	var out spec.Credential
	if err := q.call("POST", q.appPath()+"/credentials", cr, &out); err != nil {
		return q.reshow(err, "cred-"+typ, q.appView, q.t("nav.apps"), "apps")
	}
	// No redirect: this answer is the only one that may show the secret.
	pg := q.page(q.t("nav.apps"), "apps")
	pg.Flash = q.t("flash.cred_created")
	pg.Data = &out
	return q.appView(pg)
}

func (q *req) rotateCredential() error {
	body := map[string]int64{}
	if s := q.r.PostFormValue("overlap"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: q.t("cred.bad_overlap")}, "", q.appView, q.t("nav.apps"), "apps")
		}
		body["overlap"] = n
	}
	var out spec.Credential
	path := q.appPath() + "/credentials/" + url.PathEscape(q.r.PathValue("c")) + "/rotate"
	if err := q.call("POST", path, body, &out); err != nil {
		return q.reshow(err, "", q.appView, q.t("nav.apps"), "apps")
	}
	pg := q.page(q.t("nav.apps"), "apps")
	pg.Flash = q.t("flash.cred_rotated")
	pg.Data = &out
	return q.appView(pg)
}

func (q *req) deleteCredential() error {
	if err := q.call("DELETE", q.appPath()+"/credentials/"+url.PathEscape(q.r.PathValue("c")), nil, nil); err != nil {
		return q.reshow(err, "", q.appView, q.t("nav.apps"), "apps")
	}
	q.redirect("/portal/apps/"+url.PathEscape(q.r.PathValue("a")), "cred_deleted")
	return nil
}

// credIdent is what a credential list shows to tell credentials apart: never
// a secret (the list answer has none; this keeps it so).
func credIdent(c spec.Credential) string {
	switch c.Type {
	case spec.CredKeyAuth:
		return c.Hint
	case spec.CredBasicAuth:
		return c.Username
	case spec.CredHMACAuth:
		return c.AccessKey
	case spec.CredJWTAuth:
		return c.Key
	case spec.CredOAuth2:
		return c.ClientID
	}
	return c.Subject
}
