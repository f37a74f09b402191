package fast

import (
	"bufio"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
)

// stateFor parses a raw request head with fasthttp's parser, as the server
// does, and returns a state over it (nil when fasthttp itself refuses).
func stateFor(t *testing.T, raw string) *state {
	t.Helper()
	ctx := &fasthttp.RequestCtx{}
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		return nil
	}
	return &state{ctx: ctx}
}

// FuzzReadHead: whatever header block a client sends, a request the engine
// accepts has well-formed names and values, one body framing and no folded
// line — the properties that keep two parsers from reading it differently.
func FuzzReadHead(f *testing.F) {
	for _, seed := range []string{
		"X-A: b\r\n",
		"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
		"X-A: b\r\n c\r\n",
		"X A: b\r\n",
		"X-A: b\x7fc\r\n",
		"Transfer-Encoding: identity\r\n",
		"Connection: X-Hop, keep-alive\r\nX-Hop: 1\r\n",
		"Connection: upgrade\r\nUpgrade: websocket\r\n",
		"Content-Length: 1\r\nContent-Length: 1\r\n",
	} {
		f.Add("/p", seed)
	}
	f.Fuzz(func(t *testing.T, target, block string) {
		if strings.ContainsAny(target, " \r\n") || target == "" {
			return
		}
		st := stateFor(t, "POST "+target+" HTTP/1.1\r\nHost: a\r\n"+block+"\r\n")
		if st == nil {
			return // fasthttp refused it
		}
		h, bad := st.readHead()
		if bad != "" {
			return
		}
		var cl, te bool
		// Lines end in LF (CR optional, as RFC 9112 §2.2 lets a recipient
		// read them); the first empty one ends the header.
		for _, line := range strings.Split(string(st.ctx.Request.Header.RawHeaders()), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line == "" {
				break
			}
			if line[0] == ' ' || line[0] == '\t' {
				t.Fatalf("accepted a folded line %q", line)
			}
			name, value, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsFunc(name, func(r rune) bool { return r > 0x7e || !reqpolicy.TokenChars[byte(r)] }) {
				t.Fatalf("accepted header name %q", name)
			}
			if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
				t.Fatalf("accepted header value %q", value)
			}
			cl = cl || strings.EqualFold(name, "Content-Length")
			if strings.EqualFold(name, "Transfer-Encoding") {
				te = true
				if !strings.EqualFold(strings.TrimSpace(value), "chunked") {
					t.Fatalf("accepted Transfer-Encoding %q", value)
				}
			}
		}
		if cl && te {
			t.Fatal("accepted Content-Length with Transfer-Encoding")
		}
		if te && !h.chunked {
			t.Fatal("a chunked request not seen as chunked")
		}
	})
}

// FuzzNormalizePath: the path routing sees is the percent-decoding of
// the request target's path with empty and dot segments removed (as
// path.Clean, keeping a trailing slash), or the request is refused; what
// is refused is exactly what the policy names (invalid escapes, encoded
// slashes, backslashes, semicolons, control bytes).
func FuzzNormalizePath(f *testing.F) {
	for _, seed := range []string{"/a/b", "/a%2Fb", "/%zz", "/caf%C3%A9?q=%20", "/%", "/a%2", "http://h/x%41?y",
		"/a/../b", "/a/%2e%2e/b", "/a/.%2E/", "//a//b/", "/a;b", "/a\\b", "/a%5cb", "/%00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if strings.ContainsAny(target, " \r\n\t") || target == "" {
			return
		}
		st := stateFor(t, "GET "+target+" HTTP/1.1\r\nHost: a\r\n\r\n")
		if st == nil {
			return
		}
		bad := st.normalizePath()
		raw := string(reqpolicy.RawPath(st.ctx.Request.Header.RequestURI()))
		dec, err := url.PathUnescape(raw)
		refusable := err != nil || !strings.HasPrefix(raw, "/") || strings.ContainsAny(dec, "\\;") ||
			strings.Contains(strings.ToLower(raw), "%2f") ||
			strings.ContainsFunc(dec, func(r rune) bool { return r < 0x20 || r == 0x7f })
		switch {
		case raw == "*":
			return
		case bad != "":
			if !refusable {
				t.Fatalf("raw path %q refused (%s) though the policy allows it", raw, bad)
			}
			return
		case refusable:
			t.Fatalf("raw path %q accepted as %q, the policy refuses it", raw, st.path)
		}
		want := path.Clean(dec)
		if want != "/" && (strings.HasSuffix(dec, "/") || strings.HasSuffix(dec, "/.") || strings.HasSuffix(dec, "/..")) {
			want += "/"
		}
		if st.path != want {
			t.Fatalf("raw path %q: normalised to %q, want %q", raw, st.path, want)
		}
		fwd, err := url.PathUnescape(string(st.fwdPath))
		if err != nil || fwd != st.path {
			t.Fatalf("raw path %q: forwarded %q, which decodes to %q (%v), not the matched %q", raw, st.fwdPath, fwd, err, st.path)
		}
	})
}

// FuzzPathAgreement: for any path made of the pieces path attacks use
// ('/', '.', "%2e", "%2f", ';', '\', letters, …), the path routing matched
// is the one the backend receives, or the request is refused.
func FuzzPathAgreement(f *testing.F) {
	for _, seed := range []string{"", "\x02\x02\x00\x0a", "\x01\x00\x03\x03\x00\x0a", "\x06\x02\x06\x0a", "\x07\x00\x0b"} {
		f.Add([]byte(seed))
	}
	a := enginetest.AgreementGateway(f, startFast)
	f.Fuzz(func(t *testing.T, b []byte) { a.Check(t, enginetest.FuzzPath(b)) })
}
