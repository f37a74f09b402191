package portal

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "logo.png")
	svg := filepath.Join(dir, "logo.svg")
	txt := filepath.Join(dir, "logo.txt")
	big := filepath.Join(dir, "big.png")
	_ = os.WriteFile(png, []byte("\x89PNG\r\n\x1a\nrest"), 0o600)
	_ = os.WriteFile(svg, []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), 0o600)
	_ = os.WriteFile(txt, []byte("hello"), 0o600)
	_ = os.WriteFile(big, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, maxLogo)...), 0o600)
	for _, tc := range []struct {
		name string
		opts Options
		err  string
	}{
		{"defaults", Options{}, ""},
		{"colours", Options{PrimaryColor: "#0a0", AccentColor: "#FFCC00"}, ""},
		{"bad primary", Options{PrimaryColor: "red"}, "primary colour"},
		{"injection", Options{AccentColor: "#fff;} body{display:none"}, "accent colour"},
		{"png logo", Options{LogoPath: png}, ""},
		{"svg logo", Options{LogoPath: svg}, ""},
		{"not an image", Options{LogoPath: txt}, "neither a PNG nor an SVG"},
		{"too big", Options{LogoPath: big}, "larger than"},
		{"missing logo", Options{LogoPath: filepath.Join(dir, "nope.png")}, "logo"},
		{"long title", Options{Title: strings.Repeat("x", 81)}, "title"},
	} {
		_, err := New(http.NotFoundHandler(), tc.opts)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New accepted no admin API")
	}
}

func TestBranding(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "logo.svg")
	_ = os.WriteFile(svg, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 0o600)
	p, err := New(http.NotFoundHandler(), Options{Title: "Acme <APIs>", LogoPath: svg, PrimaryColor: "#ffeeaa", AccentColor: "#123456"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	rec := get("/portal/theme.css")
	css := rec.Body.String()
	// A light primary colour gets dark text; a dark accent white text.
	for _, s := range []string{"--primary:#ffeeaa", "--primary-fg:#111111", "--accent:#123456", "--accent-fg:#ffffff", "--link:#123456"} {
		if !strings.Contains(css, s) {
			t.Errorf("theme.css lacks %q: %s", s, css)
		}
	}
	rec = get("/portal/logo")
	if rec.Header().Get("Content-Type") != "image/svg+xml" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("logo headers = %v", rec.Header())
	}
	rec = get("/portal/signin")
	want(t, "signin", rec, http.StatusOK, `<img src="/portal/logo" alt="">`, "Acme &lt;APIs&gt;", `href="/portal/theme.css"`)
	rec = get("/portal")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/portal/" {
		t.Errorf("/portal: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec = get("/portal/static/portal.js"); rec.Code != http.StatusOK {
		t.Errorf("portal.js: %d", rec.Code)
	}
	if rec = get("/portal/nothing-here"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown page: %d", rec.Code)
	}
	// Without a logo, /portal/logo is 404 and the header shows none.
	p2, _ := New(http.NotFoundHandler(), Options{})
	rec = httptest.NewRecorder()
	p2.ServeHTTP(rec, httptest.NewRequest("GET", "/portal/logo", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("logo without one: %d", rec.Code)
	}
}

func TestColourContrast(t *testing.T) {
	for _, tc := range []struct{ c, fg string }{
		{"#000000", "#ffffff"}, {"#ffffff", "#111111"}, {"#2357c6", "#ffffff"}, {"#ffcc00", "#111111"}, {"#0f0", "#111111"}, {"#1d2430", "#ffffff"},
	} {
		if got := onColour(tc.c); got != tc.fg {
			t.Errorf("onColour(%s) = %s, want %s", tc.c, got, tc.fg)
		}
	}
	if linkColour("#ffcc00") != defaultAccent || linkColour("#123456") != "#123456" {
		t.Error("a light accent must not become the link colour")
	}
}
