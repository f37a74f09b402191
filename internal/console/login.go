package console

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/webpage"
)

// loginCSRFCookie holds the login form's CSRF token. Before a session
// exists there is nothing to derive a token from, so the login form uses a
// double submit: a random value in a SameSite=Strict cookie and the same
// value in a hidden field. Another site can make a browser post the form
// but can neither read the cookie nor have it sent along (Strict), so a
// forged login (into the attacker's account) fails.
const loginCSRFCookie = "portico_login_csrf"

// loginCSRF returns the request's login CSRF token, or sets a new one.
func loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(loginCSRFCookie); err == nil && len(ck.Value) >= 26 && len(ck.Value) <= 64 {
		return ck.Value
	}
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", MaxAge: 12 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

// validLoginCSRF reports whether the posted form carries the cookie's token.
func validLoginCSRF(r *http.Request) bool {
	ck, err := r.Cookie(loginCSRFCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// loginView is the login page's own data: the link to single sign-on,
// when the admin API has an OpenID provider. The provider sends the
// browser back to the admin API's callback, which sets the session cookie
// and returns to next.
type loginView struct{ SSO string }

func (c *Console) loginView(next string) loginView {
	if !c.sso {
		return loginView{}
	}
	return loginView{SSO: adminapi.Prefix + "/auth/oidc/start?next=" + url.QueryEscape(safeRedirect(next))}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	q := &req{w: w, r: r, c: c, lang: webpage.Lang(r)}
	p := q.page(q.t("login.title"), "")
	p.CSRF = loginCSRF(w, r)
	p.Form = url.Values{"next": {safeRedirect(r.URL.Query().Get("next"))}}
	p.Data = c.loginView(p.Form.Get("next"))
	if r.URL.Query().Get("expired") != "" {
		p.Error = q.t("login.expired")
	}
	q.render(http.StatusOK, "login", p)
}

func (c *Console) loginPost(w http.ResponseWriter, r *http.Request) {
	q := &req{w: w, r: r, c: c, lang: webpage.Lang(r)}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		q.fail(http.StatusBadRequest, q.t("err.form"))
		return
	}
	reshow := func(status int, msg string, fields map[string]string) {
		p := q.page(q.t("login.title"), "")
		p.Errors = fields
		p.CSRF = loginCSRF(w, r)
		p.Form = url.Values{"username": {r.PostFormValue("username")}, "next": {safeRedirect(r.PostFormValue("next"))}}
		p.Data = c.loginView(p.Form.Get("next"))
		p.Error = msg
		q.render(status, "login", p)
	}
	if !validLoginCSRF(r) {
		reshow(http.StatusForbidden, q.t("login.stale"), nil)
		return
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	body := map[string]string{"username": r.PostFormValue("username"), "password": r.PostFormValue("password")}
	ans, err := c.api.Call(r, "", "POST", "/auth/login", body, &out)
	if err != nil {
		status, msg, fields := http.StatusBadGateway, q.t("err.internal"), map[string]string(nil)
		ae, ok := err.(*webpage.Refusal)
		if ok {
			status, msg, fields = ae.Status, q.t("login.failed"), ae.Fields
		}
		switch {
		case status == http.StatusTooManyRequests:
			after := ans.RetryAfter()
			w.Header().Set("Retry-After", after)
			msg = fmt.Sprintf(q.t("login.throttled"), after)
		case status >= 500:
			status, msg = http.StatusBadGateway, q.t("err.internal")
		}
		reshow(status, msg, fields)
		return
	}
	setSession(w, r, out.Token, out.ExpiresAt)
	http.Redirect(w, r, safeRedirect(r.PostFormValue("next")), http.StatusSeeOther)
}
