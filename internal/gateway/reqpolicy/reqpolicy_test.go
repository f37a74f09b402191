package reqpolicy

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, want string
		clean     bool
		reason    string
	}{
		{raw: "/", want: "/", clean: true},
		{raw: "/a/b", want: "/a/b", clean: true},
		{raw: "/a/b/", want: "/a/b/", clean: true},
		{raw: "/a/.b/..c/...", want: "/a/.b/..c/...", clean: true},
		{raw: "/a/../b", want: "/b"},
		{raw: "/a/./b", want: "/a/b"},
		{raw: "/a/b/..", want: "/a/"},
		{raw: "/a/b/.", want: "/a/b/"},
		{raw: "/..", want: "/"},
		{raw: "/../../a", want: "/a"},
		{raw: "//a///b//", want: "/a/b/"},
		{raw: "/a//../b", want: "/b"},
		{raw: "/a/%2e%2e/b", want: "/b"},
		{raw: "/a/.%2E/b", want: "/b"},
		{raw: "/a/%2e/b", want: "/a/b"},
		{raw: "/%61%62", want: "/ab"},
		{raw: "/caf%C3%A9", want: "/caf\xc3\xa9"},
		{raw: "/a%20b%3F", want: "/a b?"},
		{raw: "/a%25", want: "/a%"},
		{raw: "", reason: ReasonNotAPath},
		{raw: "a/b", reason: ReasonNotAPath},
		{raw: "/a%2Fb", reason: ReasonEncodedSlash},
		{raw: "/a%2fb", reason: ReasonEncodedSlash},
		{raw: "/a\\b", reason: ReasonBackslash},
		{raw: "/a%5Cb", reason: ReasonBackslash},
		{raw: "/a;b", reason: ReasonSemicolon},
		{raw: "/a%3bb", reason: ReasonSemicolon},
		{raw: "/a%00", reason: ReasonControl},
		{raw: "/a%0d%0a", reason: ReasonControl},
		{raw: "/a%7f", reason: ReasonControl},
		{raw: "/a\tb", reason: ReasonControl},
		{raw: "/a%", reason: ReasonBadEscape},
		{raw: "/a%4", reason: ReasonBadEscape},
		{raw: "/a%zz", reason: ReasonBadEscape},
	}
	for _, tc := range tests {
		got, clean, reason := Normalize(nil, []byte(tc.raw))
		if reason != tc.reason || reason == "" && (string(got) != tc.want || clean != tc.clean) {
			t.Errorf("Normalize(%q) = %q, clean %v, %q; want %q, clean %v, %q", tc.raw, got, clean, reason, tc.want, tc.clean, tc.reason)
		}
	}
}

func TestNormalizeAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, raw := range []string{"/a/b/c", "/a/%2e%2e/b/c%20d"} {
		b := []byte(raw)
		if n := testing.AllocsPerRun(100, func() { _, _, _ = Normalize(buf, b) }); n != 0 {
			t.Errorf("Normalize(%q) allocates %v times", raw, n)
		}
	}
}

// FuzzNormalize: an accepted path is path.Clean of its decoding (a
// trailing slash kept), its escaped form decodes back to it and is clean.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/a/../b", "/%2e%2e/x", "//a//", "/a/b/..", "/caf%C3%A9", "/%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, _, reason := Normalize(nil, []byte(raw))
		if reason != "" {
			return
		}
		dec, err := url.PathUnescape(raw)
		if err != nil {
			t.Fatalf("%q accepted, but url.PathUnescape says %v", raw, err)
		}
		want := path.Clean(dec)
		if want != "/" && (strings.HasSuffix(dec, "/") || strings.HasSuffix(dec, "/.") || strings.HasSuffix(dec, "/..")) {
			want += "/"
		}
		if string(got) != want {
			t.Fatalf("Normalize(%q) = %q, want %q", raw, got, want)
		}
		esc := AppendEscaped(nil, got)
		again, clean, reason := Normalize(nil, esc)
		if reason != "" || string(again) != string(got) || (clean && string(esc) != string(got)) {
			t.Fatalf("escaped %q of %q normalises to %q (%s)", esc, got, again, reason)
		}
	})
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"": true, "gw": true, "api.example.com": true, "api.example.com:8080": true, "127.0.0.1:9080": true,
		"[::1]": true, "[::1]:80": true, "my_host": true,
		"a.example:1@b.example": false, "gw/evil": false, "gw evil": false, "gw:80x": false, "gw:123456": false,
		"gw:": false, ":80": false, "[::1": false, "[]": false, "[::1]x": false, "gw\\x": false, "g%41": false,
	} {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestIsIdentityHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Consumer-Id": true, "x-consumer-name": true, "X_Consumer_Id": true, "X-Consumer_Custom": true,
		"X_Forwarded_For": true, "x_forwarded_host": true, "X_Request_Id": true, "X_Real_Ip": true,
		"X-Forwarded-For": false, "X-Request-Id": false, "X-Consumer": false, "X-Consumers-Id": false,
		"X_Other": false, "Authorization": false, "X-Real-Ip": false,
	} {
		if got := IsIdentityHeader(name); got != want {
			t.Errorf("IsIdentityHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHeadScan(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		reason string
		cl     int64
		chunk  bool
	}{
		{name: "plain", lines: []string{"Host: gw", "X-A: 1\t2"}, cl: -1},
		{name: "length", lines: []string{"Host: gw", "Content-Length: 12"}, cl: 12},
		{name: "chunked", lines: []string{"Transfer-Encoding:  chunked "}, cl: -1, chunk: true},
		{name: "CL and TE", lines: []string{"Content-Length: 3", "Transfer-Encoding: chunked"}, reason: ReasonCLAndTE},
		{name: "two CL", lines: []string{"Content-Length: 3", "Content-Length: 3"}, reason: ReasonTwoCL},
		{name: "signed CL", lines: []string{"Content-Length: +3"}, reason: ReasonBadCL},
		{name: "CL list", lines: []string{"Content-Length: 3, 3"}, reason: ReasonBadCL},
		{name: "gzip TE", lines: []string{"Transfer-Encoding: gzip"}, reason: ReasonBadTE},
		{name: "two TE", lines: []string{"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}, reason: ReasonBadTE},
		{name: "obs-fold", lines: []string{"X-A: 1", " folded"}, reason: ReasonObsFold},
		{name: "no name", lines: []string{": x"}, reason: ReasonNoName},
		{name: "space in name", lines: []string{"X A: 1"}, reason: ReasonBadName},
		{name: "NUL in value", lines: []string{"X-A: a\x00b"}, reason: ReasonBadValue},
		{name: "bad Host", lines: []string{"Host: a@b"}, reason: ReasonBadHost},
		{name: "two Hosts", lines: []string{"Host: a", "Host: a"}, reason: ReasonTwoHosts},
	}
	for _, tc := range tests {
		var s HeadScan
		s.Reset()
		for _, l := range tc.lines {
			if _, _, ok := s.Line([]byte(l)); !ok {
				break
			}
		}
		reason := s.Done()
		if reason != tc.reason || reason == "" && (s.ContentLength != tc.cl || s.Chunked != tc.chunk) {
			t.Errorf("%s: reason %q, length %d, chunked %v; want %q, %d, %v", tc.name, reason, s.ContentLength, s.Chunked, tc.reason, tc.cl, tc.chunk)
		}
	}
}
