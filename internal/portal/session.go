package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
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
	// langCookie is shared with the console (same name, Path=/): a person
	// who picked Chinese in one front end gets it in the other.
	langCookie = "portico_lang"
	cookiePath = "/portal"
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

// maxRedirect bounds a redirect target taken from a request.
const maxRedirect = 2048

// safeNext is the only way a target taken from a request (?next=, ?back=,
// a form's next or back) becomes a Location. It answers target when it is
// a path of the portal and home otherwise. Browsers are lenient with
// Location (they drop TAB, CR and LF, read "\" as "/", take "//host" as
// another origin), so rather than enumerate tricks a target must
//   - be /portal or start with /portal/ (not /portalx, not another page of
//     the admin address),
//   - consist only of A-Z a-z 0-9 and / _ . ~ - % ? = & + , (no control
//     bytes, spaces, backslashes, quotes, "#", ":" or "@"),
//   - carry only well-formed %XX escapes, none in the path part that
//     decodes to "/", "\", "%", "." or a control byte (a proxy decoding
//     once more could make "//" or "/../" of them),
//   - hold no "." or ".." path segment (a browser would resolve
//     /portal/../x to /x).
func safeNext(target string) string {
	if len(target) == 0 || len(target) > maxRedirect {
		return home
	}
	if target != "/portal" && !strings.HasPrefix(target, "/portal/") && !strings.HasPrefix(target, "/portal?") {
		return home
	}
	path := target
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return home
		}
	}
	inPath := true
	for i := 0; i < len(target); i++ {
		b := target[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '?':
			inPath = false
		case strings.IndexByte("/_.~-=&+,", b) >= 0:
		case b == '%':
			if i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2]) {
				return home
			}
			v := unhex(target[i+1])<<4 | unhex(target[i+2])
			if inPath && (v == '/' || v == '\\' || v < 0x20 || v == 0x7f || v == '%' || v == '.') {
				return home
			}
			i += 2
		default:
			return home
		}
	}
	return target
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}

// langOf picks English or Simplified Chinese: the switch's cookie first,
// then Accept-Language.
func langOf(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == "en" || ck.Value == "zh-CN") {
		return ck.Value
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// switchLang sets the language and goes back to the page it came from.
func (p *Portal) switchLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" && lang != "zh-CN" {
		lang = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: p.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}
