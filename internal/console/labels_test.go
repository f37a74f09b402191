package console

import (
	"io/fs"
	"strings"
	"testing"
)

func TestSpan(t *testing.T) {
	for _, tc := range []struct{ lang, in, want string }{
		{"en", "1m0s", "1 min"},
		{"zh-CN", "1m0s", "1 分钟"},
		{"en", "15m0s", "15 min"},
		{"en", "5m", "5 min"},
		{"zh-CN", "10s", "10 秒"},
		{"en", "2h0m0s", "2 h"},
		{"zh-CN", "24h", "24 小时"},
		{"en", "90s", "90 s"},
		{"en", "1.5s", "1.5s"}, // not whole seconds: as it came
		{"en", "", ""},
		{"en", "soon", "soon"},
		{"en", "-1m", "-1m"},
	} {
		p := &page{Lang: tc.lang}
		if got := p.Span(tc.in); got != tc.want {
			t.Errorf("%s Span(%q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

// Every column has a header a screen reader can announce, the actions
// column included.
func TestNoEmptyColumnHeaders(t *testing.T) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(templateFS, f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "<th></th>") {
			t.Errorf("%s has an empty column header", f)
		}
	}
}
