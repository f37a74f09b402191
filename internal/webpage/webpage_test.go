package webpage

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestSecurityHeadersAndRecover(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	serve := func(h http.HandlerFunc) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		func() {
			SetSecurityHeaders(w.Header(), "default-src 'self'")
			defer Recover(w, httptest.NewRequest("GET", "/x", nil), log, "console")
			h(w, nil)
		}()
		return w
	}
	w := serve(func(w http.ResponseWriter, _ *http.Request) { panic("bug") })
	if w.Code != http.StatusInternalServerError || !strings.Contains(logged.String(), "console page panicked") {
		t.Errorf("a panic: %d, log %q", w.Code, logged.String())
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "same-origin", "Content-Security-Policy": "default-src 'self'"} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("ErrAbortHandler: recovered %v, want it passed on", v)
		}
	}()
	serve(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
}

func TestStatic(t *testing.T) {
	h := Static("/static/", fstest.MapFS{"app.css": {Data: []byte("body{}")}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/static/app.css", nil))
	if w.Code != 200 || w.Body.String() != "body{}" || w.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("static: %d %q %q", w.Code, w.Body, w.Header().Get("Cache-Control"))
	}
}

func TestWithFlash(t *testing.T) {
	for _, tc := range []struct{ path, flash, want string }{
		{"/a", "", "/a"}, {"/a", "saved", "/a?flash=saved"}, {"/a?page=2", "x y", "/a?page=2&flash=x+y"},
	} {
		if got := WithFlash(tc.path, tc.flash); got != tc.want {
			t.Errorf("WithFlash(%q, %q) = %q, want %q", tc.path, tc.flash, got, tc.want)
		}
	}
}

func TestPages(t *testing.T) {
	files := fstest.MapFS{
		"templates/layout.html": {Data: []byte(`{{define "layout"}}<main>{{template "body" .}}</main>{{end}}`)},
		"templates/_part.html":  {Data: []byte(`{{define "part"}}[{{up .}}]{{end}}`)},
		"templates/home.html":   {Data: []byte(`{{define "body"}}home {{template "part" .}}{{end}}`)},
		"templates/bad.html":    {Data: []byte(`{{define "body"}}{{.Missing.Field}}{{end}}`)},
	}
	ps, err := ParsePages(files, template.FuncMap{"up": strings.ToUpper})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Errorf("pages %v: want home and bad (not the layout, not the partial)", ps)
	}
	w := httptest.NewRecorder()
	if err := ps.Render(w, "home", http.StatusCreated, "x"); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusCreated || w.Body.String() != "<main>home [X]</main>" || w.Header().Get("Cache-Control") != "no-store" ||
		w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("home: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = httptest.NewRecorder()
	if err := ps.Render(w, "bad", http.StatusOK, "x"); err == nil || w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "<main>") {
		t.Errorf("a failing page: %v %d %q", err, w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	if err := ps.Render(w, "nope", http.StatusOK, nil); err == nil || w.Code != http.StatusNotFound {
		t.Errorf("no such page: %v %d", err, w.Code)
	}
	// Without partials (the console has none) the layout alone is shared.
	delete(files, "templates/_part.html")
	files["templates/home.html"] = &fstest.MapFile{Data: []byte(`{{define "body"}}home{{end}}`)}
	if _, err := ParsePages(files, nil); err != nil {
		t.Errorf("no partials: %v", err)
	}
}
