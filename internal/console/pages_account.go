package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// accountRoutes are the user's own account: password, sessions and
// personal access tokens. Every user holds session:self.
func accountRoutes() []pageRoute {
	return []pageRoute{
		{pattern: "GET /account", perm: rbac.SessionSelf, handle: func(q *req) error { return accountView(q, q.page(q.t("nav.account"), "account"), 200) }},
		{pattern: "POST /account/password", perm: rbac.SessionSelf, handle: (*req).changePassword},
		{pattern: "POST /account/sessions/{sid}/delete", perm: rbac.SessionSelf, handle: (*req).endMySession},
		{pattern: "POST /account/tokens", perm: rbac.SessionSelf, handle: (*req).createToken},
		{pattern: "POST /account/tokens/{t}/delete", perm: rbac.SessionSelf, handle: (*req).revokeToken},
	}
}

type accountData struct {
	Me       meAnswer
	Grants   []spec.ProjectGrant
	Sessions []spec.Session
	Tokens   []spec.AccessToken
	New      *spec.AccessToken // the one just made: its text, once
}

func accountView(q *req, p *page, status int) error {
	d := accountData{Me: q.me}
	d.New, _ = p.Data.(*spec.AccessToken)
	d.Grants = q.me.Projects
	var sl webpage.List[spec.Session]
	if err := q.call("GET", "/me/sessions", nil, &sl); err != nil {
		return err
	}
	var tl webpage.List[spec.AccessToken]
	if err := q.call("GET", "/tokens", nil, &tl); err != nil {
		return err
	}
	d.Sessions, d.Tokens = sl.Items, tl.Items
	p.Data = d
	q.render(status, "account", p)
	return nil
}

func (q *req) changePassword() error {
	f := q.r.PostForm
	// The repeat is the console's own check: the admin API takes the new
	// password once.
	if f.Get("new_password") != f.Get("new_password2") {
		msg := q.t("account.mismatch")
		return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: msg, Fields: map[string]string{"new_password2": msg}},
			"password", accountView, q.t("nav.account"), "account")
	}
	body := map[string]string{"current_password": f.Get("current_password"), "new_password": f.Get("new_password")}
	if err := q.call("POST", "/me/password", body, nil); err != nil {
		return q.reshow(err, "password", accountView, q.t("nav.account"), "account")
	}
	q.redirect("/account", "password_changed")
	return nil
}

func (q *req) endMySession() error {
	sid := q.r.PathValue("sid")
	if err := q.call("DELETE", "/me/sessions/"+url.PathEscape(sid), nil, nil); err != nil {
		return q.reshow(err, "", accountView, q.t("nav.account"), "account")
	}
	if q.r.PostFormValue("current") == "1" {
		// Ending the session this page came with is a logout.
		clearSession(q.w)
		http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
		return nil
	}
	q.redirect("/account", "session_ended")
	return nil
}

func (q *req) createToken() error {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "scope": f.Get("scope")}
	if s := strings.TrimSpace(f.Get("expires_in_days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1 // refused beside the field by the admin API
		}
		body["expires_in_days"] = n
	}
	var out spec.AccessToken
	if err := q.call("POST", "/tokens", body, &out); err != nil {
		return q.reshow(err, "new-token", accountView, q.t("nav.account"), "account")
	}
	// No redirect: this answer is the only one that may show the token.
	p := q.page(q.t("nav.account"), "account")
	p.Flash = q.t("flash.token_created")
	p.Data = &out
	return accountView(q, p, http.StatusOK)
}

func (q *req) revokeToken() error {
	if err := q.call("DELETE", "/tokens/"+url.PathEscape(q.r.PathValue("t")), nil, nil); err != nil {
		return q.reshow(err, "", accountView, q.t("nav.account"), "account")
	}
	q.redirect("/account", "token_revoked")
	return nil
}
