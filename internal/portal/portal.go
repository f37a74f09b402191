// Package portal is Portico's developer portal: the catalog of listed
// APIs with their documentation, subscriptions with plans and quotas,
// applications and their credentials, and the consumer's own requests.
// Like the console it is server-rendered (html/template, embedded CSS and
// a little progressive JavaScript), speaks English and Simplified Chinese,
// and is a thin client of the admin API: every page calls the admin API's
// handler in process with the signed-in user's token.
package portal

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/webpage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options brands and configures the portal.
type Options struct {
	// Title names the portal in its header and the browser's title;
	// default "Developer Portal".
	Title string
	// LogoPath is a PNG or SVG file shown in the header and served at
	// /portal/logo; "" shows the title alone.
	LogoPath string
	// PrimaryColor and AccentColor are CSS hex colours (#rgb or
	// #rrggbb): the header and primary buttons, and links and highlights.
	PrimaryColor, AccentColor string
	// Signup offers the sign-up page. The admin API must accept
	// POST /auth/signup too (portico server --portal-signup).
	Signup bool
	// SSO shows the single sign-on link on the sign-in page: set when the
	// admin API has an OpenID provider and answers under /api/v1 on the
	// same origin as the portal.
	SSO bool
	// SecureCookies marks cookies Secure even when this hop is plain HTTP
	// (the portal behind a proxy that terminates TLS).
	SecureCookies bool
	Logger        *slog.Logger
}

// Portal serves the developer portal under /portal/.
type Portal struct {
	api   webpage.API
	opts  Options
	log   *slog.Logger
	pages webpage.Pages
	mux   *http.ServeMux
	theme []byte // theme.css: the brand's colours as custom properties
	logo  []byte
	ltype string // the logo's Content-Type
}

const defaultTitle = "Developer Portal"

// New returns the portal, or an error naming a bad option (a colour that
// is not a hex colour, a logo that cannot be read or is not PNG or SVG).
func New(api http.Handler, opts Options) (*Portal, error) {
	if api == nil {
		return nil, errors.New("portal: the admin API handler is required")
	}
	p := &Portal{api: webpage.API{Handler: api, MaxAnswer: maxAnswer, ForwardBrowser: true}, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.opts.Title = strings.TrimSpace(p.opts.Title)
	if p.opts.Title == "" {
		p.opts.Title = defaultTitle
	}
	if len([]rune(p.opts.Title)) > 80 {
		return nil, errors.New("portal: the title is longer than 80 characters")
	}
	theme, err := themeCSS(opts.PrimaryColor, opts.AccentColor)
	if err != nil {
		return nil, err
	}
	p.theme = theme
	if opts.LogoPath != "" {
		if p.logo, p.ltype, err = readLogo(opts.LogoPath); err != nil {
			return nil, err
		}
	}
	if p.pages, err = webpage.ParsePages(templateFS, funcs); err != nil {
		return nil, fmt.Errorf("portal templates: %w", err)
	}
	p.routes()
	return p, nil
}

// maxAnswer bounds what the portal reads of one admin API answer: an
// OpenAPI document is the largest; anything bigger is refused rather than
// rendered.
const maxAnswer = 16 << 20

// routes registers every page. Pages that need a session go through
// p.auth (the session, and the CSRF token of a POST); the others are the
// sign-in and sign-up forms and the assets.
func (p *Portal) routes() {
	static, _ := fs.Sub(staticFS, "static")
	p.mux.Handle("GET /portal/static/", webpage.Static("/portal/static/", static))
	p.mux.HandleFunc("GET /portal/theme.css", p.serveTheme)
	p.mux.HandleFunc("GET /portal/logo", p.serveLogo)
	p.mux.HandleFunc("GET /portal", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, home, http.StatusMovedPermanently)
	})
	p.mux.HandleFunc("GET /portal/lang/{lang}", p.switchLang)
	p.mux.HandleFunc("GET /portal/signin", p.signinPage)
	p.mux.HandleFunc("POST /portal/signin", p.signinPost)
	p.mux.HandleFunc("GET /portal/signup", p.signupPage)
	p.mux.HandleFunc("POST /portal/signup", p.signupPost)
	p.mux.HandleFunc("POST /portal/signout", p.auth((*req).signout))

	p.mux.HandleFunc("GET /portal/{$}", p.auth((*req).catalogPage))
	p.mux.HandleFunc("GET /portal/apis/{service}", p.auth((*req).apiPage))
	p.mux.HandleFunc("POST /portal/apis/{service}/subscribe", p.auth((*req).subscribe))
	p.mux.HandleFunc("POST /portal/apis/{service}/try", p.auth((*req).tryIt))

	p.mux.HandleFunc("GET /portal/apps", p.auth((*req).appsPage))
	p.mux.HandleFunc("POST /portal/apps", p.auth((*req).createApp))
	p.mux.HandleFunc("GET /portal/apps/{a}", p.auth((*req).appPage))
	p.mux.HandleFunc("POST /portal/apps/{a}/delete", p.auth((*req).deleteApp))
	p.mux.HandleFunc("POST /portal/apps/{a}/credentials", p.auth((*req).createCredential))
	p.mux.HandleFunc("POST /portal/apps/{a}/credentials/{c}/rotate", p.auth((*req).rotateCredential))
	p.mux.HandleFunc("POST /portal/apps/{a}/credentials/{c}/delete", p.auth((*req).deleteCredential))

	p.mux.HandleFunc("GET /portal/subscriptions", p.auth((*req).subscriptionsPage))
	p.mux.HandleFunc("POST /portal/subscriptions/{id}/delete", p.auth((*req).unsubscribe))
	p.mux.HandleFunc("GET /portal/requests", p.auth((*req).requestsPage))
	p.mux.HandleFunc("GET /portal/requests/{id}", p.auth((*req).requestPage))
	p.mux.HandleFunc("POST /portal/requests/{id}/cancel", p.auth((*req).cancelRequest))
	p.mux.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		q := &req{w: w, r: r, p: p, lang: webpage.Lang(r)}
		q.fail(http.StatusNotFound, q.t("err.not_found"))
	})
}

// csp is the portal's Content-Security-Policy. No inline script or style
// anywhere: the brand's colours come from theme.css, the copy buttons from
// portal.js.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ServeHTTP serves /portal and everything under /portal/. It adds the
// headers every page carries and recovers a panic as a plain error page,
// so a bug costs one page, not the process.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webpage.SetSecurityHeaders(w.Header(), csp)
	defer webpage.Recover(w, r, p.log, "portal")
	p.mux.ServeHTTP(w, r)
}

// maxForm bounds a form post: a Try it body is the largest.
const maxForm = 2 << 20

// req is one page request.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	p     *Portal
	token string
	lang  string
	user  string // the signed-in username, from GET /me
}

// auth wraps a page that needs a session: the session cookie (else the
// sign-in page, returning here), the CSRF token of a POST, the user, and
// errors turned into pages.
func (p *Portal) auth(fn func(*req) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := &req{w: w, r: r, p: p, lang: webpage.Lang(r), token: sessionToken(r)}
		if q.token == "" {
			q.toSignin(false)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			perr := r.ParseForm()
			if !adminapi.ValidCSRF(q.token, r.PostFormValue("csrf")) {
				q.fail(http.StatusForbidden, q.t("err.csrf"))
				return
			}
			if perr != nil {
				q.fail(http.StatusBadRequest, q.t("err.form"))
				return
			}
		}
		var me struct {
			Username string `json:"username"`
		}
		if err := q.call("GET", "/me", nil, &me); err != nil {
			q.error(err)
			return
		}
		q.user = me.Username
		if err := fn(q); err != nil {
			q.error(err)
		}
	}
}

// toSignin sends the browser to the sign-in page, to come back here: the
// page itself for a GET, the page a form was on for a POST.
func (q *req) toSignin(expired bool) {
	back := q.r.URL.RequestURI()
	if q.r.Method != http.MethodGet {
		back = q.r.Referer()
		if u, err := url.Parse(back); err == nil {
			back = u.RequestURI()
		}
	}
	v := url.Values{"next": {safeNext(back)}}
	if expired {
		v.Set("expired", "1")
	}
	http.Redirect(q.w, q.r, "/portal/signin?"+v.Encode(), http.StatusSeeOther)
}

// call sends one request to the admin API with the user's token.
func (q *req) call(method, path string, body, out any) error {
	_, err := q.p.api.Call(q.r, q.token, method, path, body, out)
	return err
}

// error turns an error into a page: an expired session goes to sign-in,
// an admin API problem shows its detail with its status, anything else is
// logged (without the request's form: it may hold secrets) and shown as 502.
func (q *req) error(err error) {
	var ae *webpage.Refusal
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized {
			q.p.clearSession(q.w, q.r)
			q.toSignin(true)
			return
		}
		msg := ae.Detail
		if msg == "" {
			msg = ae.Title
		}
		q.fail(ae.Status, msg)
		return
	}
	q.p.log.Error("portal page failed", "path", q.r.URL.Path, "err", err)
	q.fail(http.StatusBadGateway, q.t("err.internal"))
}

func (q *req) fail(status int, msg string) {
	pg := q.page(q.t("err.title"), "")
	pg.Error = msg
	pg.Data = status
	q.render(status, "error", pg)
}

func (q *req) t(key string) string { return messages.Text(q.lang, key) }

// redirect answers a successful post (post/redirect/get) with a flash key.
func (q *req) redirect(path, flash string) {
	http.Redirect(q.w, q.r, safeNext(webpage.WithFlash(path, flash)), http.StatusSeeOther)
}

// render shows page name. Pages show secrets once and per-user data:
// they are never cached (webpage.Pages.Render).
func (q *req) render(status int, name string, pg *page) {
	if err := q.p.pages.Render(q.w, name, status, pg); err != nil {
		q.p.log.Error("portal render", "page", name, "err", err)
	}
}
