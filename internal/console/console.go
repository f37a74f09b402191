// Package console is Portico's web console: server-rendered html/template
// pages with embedded CSS and a little JavaScript, in English and
// Simplified Chinese. It is a thin client of the admin API: every page
// calls the admin API's handler in process with the user's session token,
// so every validation, lifecycle refusal and audit event stays in one
// place, and problem+json field errors are shown beside their fields.
package console

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures New.
type Config struct {
	API    http.Handler // the admin API handler (serves /api/v1/…)
	Logger *slog.Logger
	// SSO shows the login page's link to single sign-on: set when the
	// admin API has an OpenID provider (adminapi.OIDCConfig).
	SSO bool
}

// Console serves the console pages under /.
type Console struct {
	api   webpage.API
	sso   bool
	log   *slog.Logger
	pages webpage.Pages
	mux   *pageMux
}

// maxForm bounds a form post; an OpenAPI upload is the largest one.
const maxForm = 11 << 20

// New returns the console handler. It panics only if the embedded
// templates do not parse, which the package's tests catch first.
func New(cfg Config) http.Handler {
	c := &Console{api: webpage.API{Handler: cfg.API}, log: cfg.Logger, mux: newPageMux()}
	c.sso = cfg.SSO
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	pages, err := webpage.ParsePages(templateFS, funcs)
	if err != nil {
		panic(fmt.Sprintf("console templates: %v", err))
	}
	c.pages = pages
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", webpage.Static("/static/", static))
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.loginPost)
	c.mux.HandleFunc("GET /lang/{lang}", c.switchLang)
	c.routes()
	return c
}

// csp is the console's Content-Security-Policy: nothing inline, nothing
// from elsewhere, never framed.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// ServeHTTP adds the headers every page carries and recovers a panic as a
// plain error page, so a bug costs one page, not the process.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webpage.SetSecurityHeaders(w.Header(), csp)
	defer webpage.Recover(w, r, c.log, "console")
	c.mux.ServeHTTP(w, r)
}

// req is one authenticated page request.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	c     *Console
	token string
	lang  string
	user  spec.User
	me    meAnswer        // GET /me
	who   *rbac.Principal // what the user may do, from me
	// refused are the admin API's refusals of this request, in the user's
	// words: render shows the API detail of the one the banner shows.
	refused []*webpage.Refusal
}

// handle wraps a page of the table: the session cookie, the CSRF token
// of a POST, the page's permission (403 naming it, before the page asks
// the admin API anything), and errors turned into pages.
func (c *Console) handle(rt pageRoute) http.HandlerFunc {
	fn := rt.handle
	return func(w http.ResponseWriter, r *http.Request) {
		q := &req{w: w, r: r, c: c, lang: webpage.Lang(r)}
		if rt.scope == scopePublic {
			c.public(q, fn)
			return
		}
		ck, err := r.Cookie(adminapi.SessionCookie)
		if err != nil || ck.Value == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		q.token = ck.Value
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			var perr error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				perr = r.ParseMultipartForm(1 << 20)
			} else {
				perr = r.ParseForm()
			}
			if !adminapi.ValidCSRF(q.token, r.PostFormValue("csrf")) {
				q.fail(http.StatusForbidden, q.t("err.csrf"))
				return
			}
			if perr != nil {
				q.fail(http.StatusBadRequest, q.t("err.form")+": "+perr.Error())
				return
			}
		}
		if err := q.loadMe(); err != nil {
			q.error(err)
			return
		}
		if !allows(q.who, rt, r.PathValue("p")) {
			q.forbidden(rt)
			return
		}
		if err := fn(q); err != nil {
			q.error(err)
		}
	}
}

// error turns an error into a page: an expired session goes to the login
// page, an admin API problem shows its detail with its status.
func (q *req) error(err error) {
	var ae *webpage.Refusal
	if errors.As(err, &ae) {
		if ae.Status == http.StatusUnauthorized {
			clearSession(q.w)
			http.Redirect(q.w, q.r, "/login?expired=1", http.StatusSeeOther)
			return
		}
		q.fail(ae.Status, ae.Detail)
		return
	}
	q.c.log.Error("console page failed", "path", q.r.URL.Path, "err", err)
	q.fail(http.StatusBadGateway, q.t("err.internal"))
}

func (q *req) fail(status int, msg string) {
	p := q.page("error", "")
	p.Error = msg
	p.Data = status
	q.render(status, "error", p)
}

func (q *req) t(key string) string { return messages.Text(q.lang, key) }

// call sends one request to the admin API handler in process with the
// user's token (webpage.API.Call).
func (q *req) call(method, path string, body, out any) error {
	_, err := q.c.api.Call(q.r, q.token, method, path, body, out)
	if ae := localizeRefusal(q.lang, err); ae != nil {
		q.refused = append(q.refused, ae)
	}
	return err
}

// redirect answers a successful post (post/redirect/get) with a flash message key.
func (q *req) redirect(path, flash string) {
	// The path carries ids taken from the request's URL.
	http.Redirect(q.w, q.r, safeRedirect(webpage.WithFlash(path, flash)), http.StatusSeeOther)
}

// safeRedirect is the only way a target taken from a request (?back=,
// ?next=, a form's next) becomes a Location: a path of this site, else
// "/" (webpage.LocalRedirect).
func safeRedirect(target string) string { return webpage.LocalRedirect(target, "/", "/") }

func (q *req) render(status int, name string, p *page) {
	if len(p.Errors) > 0 {
		// A first rendering, thrown away, notes which fields the page
		// shows messages beside (page.E), so that the layout lists the
		// others under the banner (page.Unplaced).
		p.asked = map[string]bool{}
		_ = q.c.pages.Render(discard{}, name, status, p)
	}
	// The first refusal with the banner's words: a refused form's, before
	// those of the reads that show the page again.
	if i := slices.IndexFunc(q.refused, func(ae *webpage.Refusal) bool { return ae.Detail == p.Error }); i >= 0 && p.Error != "" {
		if ae := q.refused[i]; ae.Code != "invalid_field" {
			p.ErrorDetail = ae.APIDetail
		}
	}
	if err := q.c.pages.Render(q.w, name, status, p); err != nil {
		q.c.log.Error("console render", "page", name, "err", err)
	}
}

func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: adminapi.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func setSession(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: adminapi.SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}
