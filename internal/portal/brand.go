package portal

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Default colours: the console's.
const (
	defaultPrimary = "#1d2430"
	defaultAccent  = "#2357c6"
)

var hexColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// themeCSS writes the brand's colours as CSS custom properties. Only
// validated hex colours reach it, so nothing a flag says can break out of
// the declaration; the text colour on each is picked for contrast, so a
// light brand colour keeps its buttons readable.
func themeCSS(primary, accent string) ([]byte, error) {
	if primary == "" {
		primary = defaultPrimary
	}
	if accent == "" {
		accent = defaultAccent
	}
	for _, c := range []struct{ name, v string }{{"primary colour", primary}, {"accent colour", accent}} {
		if !hexColour.MatchString(c.v) {
			return nil, fmt.Errorf("portal: the %s %q is not a CSS hex colour (#rgb or #rrggbb)", c.name, c.v)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, ":root { --primary:%s; --primary-fg:%s; --accent:%s; --accent-fg:%s; --link:%s; }\n",
		primary, onColour(primary), accent, onColour(accent), linkColour(accent))
	return b.Bytes(), nil
}

// rgb reads a validated hex colour.
func rgb(c string) (r, g, b float64) {
	h := strings.TrimPrefix(c, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, _ := strconv.ParseUint(h, 16, 32)
	return float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255
}

// luminance is WCAG's relative luminance.
func luminance(c string) float64 {
	lin := func(x float64) float64 {
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	r, g, b := rgb(c)
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG's contrast ratio of two luminances.
func contrast(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}

// onColour is black or white, whichever reads better on c.
func onColour(c string) string {
	l := luminance(c)
	if contrast(l, 1) >= contrast(l, 0) {
		return "#ffffff"
	}
	return "#111111"
}

// linkColour is the accent when it reads on the white page (4.5:1), else
// the default link colour: links must stay legible whatever the brand.
func linkColour(accent string) string {
	if contrast(luminance(accent), 1) >= 4.5 {
		return accent
	}
	return defaultAccent
}

// maxLogo bounds the logo file: it is held in memory and sent on every
// page view (cached by browsers).
const maxLogo = 512 << 10

// readLogo reads a PNG or SVG logo and answers its content type.
func readLogo(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("portal: logo: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLogo+1))
	if err != nil {
		return nil, "", fmt.Errorf("portal: logo: %w", err)
	}
	if len(b) > maxLogo {
		return nil, "", fmt.Errorf("portal: logo %s is larger than %d KiB", path, maxLogo>>10)
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return b, "image/png", nil
	case strings.EqualFold(filepath.Ext(path), ".svg") && bytes.Contains(b[:min(len(b), 4096)], []byte("<svg")):
		return b, "image/svg+xml", nil
	}
	return nil, "", fmt.Errorf("portal: logo %s is neither a PNG nor an SVG file", path)
}

func (p *Portal) serveTheme(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.theme)
}

// serveLogo sends the logo. An SVG may carry script; shown through <img>
// it never runs, and opened on its own the sandbox CSP keeps it inert.
func (p *Portal) serveLogo(w http.ResponseWriter, r *http.Request) {
	if p.logo == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ltype)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	_, _ = w.Write(p.logo)
}
