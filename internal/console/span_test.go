package console

import "testing"

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
