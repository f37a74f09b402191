package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/webpage"
)

// signinData is the sign-in and sign-up pages' own data.
type signinData struct {
	SSO string // the single sign-on link, when the admin API has a provider
}

func (p *Portal) signinData(next string) signinData {
	if !p.opts.SSO {
		return signinData{}
	}
	// The provider sends the browser back to the admin API's callback,
	// which sets the console's session cookie (read here too) and returns
	// to next, a portal page.
	return signinData{SSO: adminapi.Prefix + "/auth/oidc/start?next=" + url.QueryEscape(safeNext(next))}
}

// authForm shows the sign-in or sign-up form (name) with msg and the
// values that are safe to show again (never the password).
func (p *Portal) authForm(w http.ResponseWriter, r *http.Request, name string, status int, msg string, fields map[string]string) {
	q := &req{w: w, r: r, p: p, lang: webpage.Lang(r)}
	pg := q.page(q.t(name+".title"), name)
	pg.CSRF = p.signinCSRF(w, r)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	pg.Form = url.Values{"next": {safeNext(next)}}
	if r.Method == http.MethodPost {
		for _, k := range []string{"username", "email", "display_name"} {
			pg.Form.Set(k, r.PostFormValue(k))
		}
	}
	pg.Data = p.signinData(pg.Form.Get("next"))
	pg.Error, pg.Errors = msg, fields
	q.render(status, name, pg)
}

func (p *Portal) signinPage(w http.ResponseWriter, r *http.Request) {
	msg := ""
	if r.URL.Query().Get("expired") != "" {
		msg = messages.Text(webpage.Lang(r), "signin.expired")
	}
	p.authForm(w, r, "signin", http.StatusOK, msg, nil)
}

type sessionAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (p *Portal) signinPost(w http.ResponseWriter, r *http.Request) {
	p.authPost(w, r, "signin", "/auth/login", []string{"username", "password"})
}

func (p *Portal) signupPage(w http.ResponseWriter, r *http.Request) {
	if !p.opts.Signup {
		q := &req{w: w, r: r, p: p, lang: webpage.Lang(r)}
		q.fail(http.StatusNotFound, q.t("signup.off"))
		return
	}
	p.authForm(w, r, "signup", http.StatusOK, "", nil)
}

func (p *Portal) signupPost(w http.ResponseWriter, r *http.Request) {
	if !p.opts.Signup {
		q := &req{w: w, r: r, p: p, lang: webpage.Lang(r)}
		q.fail(http.StatusNotFound, q.t("signup.off"))
		return
	}
	p.authPost(w, r, "signup", "/auth/signup", []string{"username", "password", "email", "display_name"})
}

// authPost sends a sign-in or sign-up form to the admin API and, when it
// answers a session, keeps the token in the portal's cookie and goes on
// to next. The form's CSRF check (double submit) comes first.
func (p *Portal) authPost(w http.ResponseWriter, r *http.Request, name, path string, fields []string) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	lang := webpage.Lang(r)
	if err := r.ParseForm(); err != nil {
		p.authForm(w, r, name, http.StatusBadRequest, messages.Text(lang, "err.form"), nil)
		return
	}
	if !validSigninCSRF(r) {
		p.authForm(w, r, name, http.StatusForbidden, messages.Text(lang, "signin.stale"), nil)
		return
	}
	body := map[string]string{}
	for _, k := range fields {
		body[k] = r.PostFormValue(k)
		if k != "password" {
			body[k] = strings.TrimSpace(body[k])
		}
	}
	if name == "signup" && r.PostFormValue("password") != r.PostFormValue("password2") {
		p.authForm(w, r, name, http.StatusBadRequest, messages.Text(lang, "signup.mismatch"),
			map[string]string{"password2": messages.Text(lang, "signup.mismatch")})
		return
	}
	var out sessionAnswer
	ans, err := p.api.Call(r, "", "POST", path, body, &out)
	if err != nil {
		status, msg, fields := http.StatusBadGateway, messages.Text(lang, "err.internal"), map[string]string(nil)
		if ae, ok := err.(*webpage.Refusal); ok {
			status, msg, fields = ae.Status, ae.Detail, ae.Fields
			if name == "signin" {
				// One message for a wrong name or password: the page
				// must not tell which usernames exist.
				msg = messages.Text(lang, "signin.failed")
			}
		} else {
			p.log.Error("portal "+name, "err", err)
		}
		switch {
		case status == http.StatusTooManyRequests:
			after := ans.RetryAfter()
			w.Header().Set("Retry-After", after)
			msg = fmt.Sprintf(messages.Text(lang, "signin.throttled"), after)
		case status == http.StatusNotFound && name == "signup":
			msg = messages.Text(lang, "signup.off")
		case status >= 500:
			status, msg = http.StatusBadGateway, messages.Text(lang, "err.internal")
		}
		p.authForm(w, r, name, status, msg, fields)
		return
	}
	if out.Token == "" {
		p.authForm(w, r, name, http.StatusBadGateway, messages.Text(lang, "err.internal"), nil)
		return
	}
	p.setSession(w, r, out.Token, out.ExpiresAt)
	next := safeNext(r.PostFormValue("next"))
	if name == "signup" {
		next = safeNext("/portal/apps?flash=welcome")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session at the admin API and drops the cookies (the
// console's too: single sign-on may have set it for the portal).
func (q *req) signout() error {
	_ = q.call("POST", "/auth/logout", nil, nil) // the cookies go either way
	q.p.clearSession(q.w, q.r)
	if ck, err := q.r.Cookie(adminapi.SessionCookie); err == nil && ck.Value == q.token {
		http.SetCookie(q.w, &http.Cookie{Name: adminapi.SessionCookie, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: q.p.secure(q.r), SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(q.w, q.r, "/portal/signin", http.StatusSeeOther)
	return nil
}
