package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/webpage"
)

// Cookies. The portal keeps its own session cookie under /portal so that
// it never overwrites the console's (a provider may be signed in to the
// console as admin and to the portal as a consumer in the same browser).
const (
	sessionCookie = "portico_portal"
	// signinCSRFCookie carries the double-submit token of the sign-in and
	// sign-up forms: before a session exists there is nothing to derive a
	// token from. SameSite=Strict keeps another site's forged post from
	// carrying it (a forged sign-in into the attacker's account).
	signinCSRFCookie = "portico_portal_csrf"
	cookiePath       = "/portal"
)

func (p *Portal) secure(r *http.Request) bool { return r.TLS != nil || p.opts.SecureCookies }

func (p *Portal) setSession(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: cookiePath, Expires: expires,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
}

func (p *Portal) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
}

// sessionToken is the request's session: the portal's cookie, else the
// console's (Path=/), which single sign-on sets before returning the
// browser to the portal page it started from.
func sessionToken(r *http.Request) string {
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	if ck, err := r.Cookie(adminapi.SessionCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	return ""
}

// signinCSRF returns the request's sign-in CSRF token, or sets a new one.
func (p *Portal) signinCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(signinCSRFCookie); err == nil && len(ck.Value) >= 26 && len(ck.Value) <= 64 {
		return ck.Value
	}
	tok := rand.Text()
	http.SetCookie(w, &http.Cookie{Name: signinCSRFCookie, Value: tok, Path: cookiePath, MaxAge: 12 * 3600,
		HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteStrictMode})
	return tok
}

// validSigninCSRF reports whether the posted form carries the cookie's token.
func validSigninCSRF(r *http.Request) bool {
	ck, err := r.Cookie(signinCSRFCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// home is where the portal starts: the catalog.
const home = "/portal/"

// safeNext is the only way a target taken from a request (?next=, ?back=,
// a form's next or back) becomes a Location: a path of the portal (under
// /portal, with no dot segments: not another page of the admin address),
// else home (webpage.LocalRedirect).
func safeNext(target string) string { return webpage.LocalRedirect(target, "/portal", home) }

// switchLang sets the language and goes back to the page it came from.
func (p *Portal) switchLang(w http.ResponseWriter, r *http.Request) {
	webpage.KeepLang(w, r, p.secure(r))
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}
