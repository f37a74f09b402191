package fast

import (
	"bufio"
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
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
			if !ok || name == "" || strings.ContainsFunc(name, func(r rune) bool { return r > 0x7e || !tokenChars[byte(r)] }) {
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

// FuzzDecodePath: the path routing sees is the percent-decoding of the
// request target's path, and an invalid escape is refused.
func FuzzDecodePath(f *testing.F) {
	for _, seed := range []string{"/a/b", "/a%2Fb", "/%zz", "/caf%C3%A9?q=%20", "/%", "/a%2", "http://h/x%41?y"} {
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
		bad := st.decodePath()
		raw := string(rawPath(st.ctx.Request.Header.RequestURI()))
		want, err := url.PathUnescape(raw)
		switch {
		case !strings.HasPrefix(raw, "/"):
			if bad == "" && st.path != "*" {
				t.Fatalf("target %q: path %q accepted", target, st.path)
			}
		case err != nil:
			if bad == "" {
				t.Fatalf("raw path %q: accepted as %q, url.PathUnescape says %v", raw, st.path, err)
			}
		case bad != "":
			t.Fatalf("raw path %q: refused (%s), url.PathUnescape gives %q", raw, bad, want)
		case st.path != want:
			t.Fatalf("raw path %q: decoded %q, want %q", raw, st.path, want)
		}
		if bytes.Contains([]byte(st.path), []byte{0}) && bad == "" && !strings.Contains(raw, "%00") {
			t.Fatalf("a NUL appeared from nowhere in %q", st.path)
		}
	})
}
