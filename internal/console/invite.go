package console

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// The invitation page sets a password through a one-time link
// (/invite?token=…, made by an administrator for an invitation or a
// reset) without a login: POST /api/v1/auth/accept.

// inviteRoutes are public: whoever holds the link is the user.
func inviteRoutes() []pageRoute {
	return []pageRoute{
		{pattern: "GET /invite", scope: scopePublic, handle: invitePage},
		{pattern: "POST /invite", scope: scopePublic, handle: invitePost},
	}
}

// inviteCSRFCookie holds the form's CSRF token. As on the login form there
// is no session to derive one from, so it is a double submit: a random
// value in a SameSite=Strict cookie and in a hidden field. Another site
// could otherwise post its own link with a password it chose into the
// victim's browser.
const inviteCSRFCookie = "portico_invite_csrf"

func inviteCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(inviteCSRFCookie); err == nil && len(ck.Value) >= 26 && len(ck.Value) <= 64 {
		return ck.Value
	}
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: inviteCSRFCookie, Value: tok, Path: "/invite", MaxAge: 12 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

func validInviteCSRF(r *http.Request) bool {
	ck, err := r.Cookie(inviteCSRFCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// maxLinkToken bounds the token a page carries back into its form.
const maxLinkToken = 256

func inviteView(q *req, status int, token, msg string, fields map[string]string) {
	p := q.page(q.t("invite.title"), "")
	p.CSRF = inviteCSRF(q.w, q.r)
	if len(token) > maxLinkToken {
		token = ""
	}
	p.Form = url.Values{"token": {token}}
	p.Error, p.Errors = msg, fields
	q.render(status, "invite", p)
}

func invitePage(q *req) error {
	tok := q.r.URL.Query().Get("token")
	msg := ""
	if tok == "" {
		msg = q.t("invite.no_token")
	}
	inviteView(q, http.StatusOK, tok, msg, nil)
	return nil
}

func invitePost(q *req) error {
	f := q.r.PostForm
	tok := f.Get("token")
	if !validInviteCSRF(q.r) {
		inviteView(q, http.StatusForbidden, tok, q.t("login.stale"), nil)
		return nil
	}
	if f.Get("password") != f.Get("password2") {
		msg := q.t("account.mismatch")
		inviteView(q, http.StatusBadRequest, tok, msg, map[string]string{"password2": msg})
		return nil
	}
	var u spec.User
	ans, err := q.c.api.Call(q.r, "", "POST", "/auth/accept", map[string]string{"token": tok, "password": f.Get("password")}, &u)
	localizeRefusal(q.lang, err)
	var ae *webpage.Refusal
	switch {
	case err == nil:
		q.redirect("/login", "password_set")
		return nil
	case !errors.As(err, &ae) || ae.Status >= 500:
		return err
	case ae.Status == http.StatusUnauthorized:
		inviteView(q, ae.Status, "", q.t("invite.bad_link"), nil)
	case ae.Status == http.StatusTooManyRequests:
		after := ans.RetryAfter()
		q.w.Header().Set("Retry-After", after)
		inviteView(q, ae.Status, tok, fmt.Sprintf(q.t("login.throttled"), after), nil)
	default:
		inviteView(q, ae.Status, tok, ae.Detail, ae.Fields)
	}
	return nil
}
