// Package webpage is what the server-rendered web pages of the console
// and the portal share: the admin API called in process with the user's
// token, its refusals kept whole, the security headers of a page, local
// redirects, the translation lookup, and rendering a page from its
// templates. What differs between the two (cookies, CSRF, the
// Content-Security-Policy, the messages) stays with each and is passed in.
package webpage

import (
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
)

// SetSecurityHeaders sets the headers every page carries: it may not be
// framed, its types are not sniffed, the referrer stays on this origin,
// and csp is its Content-Security-Policy.
func SetSecurityHeaders(h http.Header, csp string) {
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
}

// Recover, deferred by a UI's ServeHTTP, answers a panic as a plain error
// page and logs it as ui's ("console", "portal"), so that a bug costs one
// page, not the process. An http.ErrAbortHandler goes on up.
func Recover(w http.ResponseWriter, r *http.Request, log *slog.Logger, ui string) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	log.Error(ui+" page panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	http.Error(w, "internal error; it has been logged", http.StatusInternalServerError)
}

// Static serves files (a UI's CSS, scripts and images) under prefix,
// cached for five minutes.
func Static(prefix string, files fs.FS) http.Handler {
	fsrv := http.StripPrefix(prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}

// WithFlash adds a flash message's key to path, the page a successful post
// goes on to (post/redirect/get); "" adds nothing.
func WithFlash(path, flash string) string {
	if flash == "" {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "flash=" + url.QueryEscape(flash)
}

// Pages are a UI's page templates by name: each is templates/layout.html
// with the partials (templates/_*.html) and the page's own file
// (templates/name.html), run from the template "layout".
type Pages map[string]*template.Template

// ParsePages parses the templates under templates/ of files with funcs.
func ParsePages(files fs.FS, funcs template.FuncMap) (Pages, error) {
	partials, err := fs.Glob(files, "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("list partials: %w", err)
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, append([]string{"templates/layout.html"}, partials...)...)
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	ps := Pages{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		ps[name] = t
	}
	return ps, nil
}

// Render answers page name of data with status: the whole page, never
// cached (pages show per-user data, and secrets once), or a plain error
// and never half a page. The error, a page that does not exist (404) or
// fails to render (500), is for the caller's log.
func (ps Pages) Render(w http.ResponseWriter, name string, status int, data any) error {
	t, ok := ps[name]
	if !ok {
		http.Error(w, "no such page", http.StatusNotFound)
		return fmt.Errorf("no page %q", name)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "the page could not be rendered; it has been logged", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
	return nil
}
