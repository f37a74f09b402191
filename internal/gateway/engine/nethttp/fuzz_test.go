package nethttp

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
)

// FuzzPathAgreement: for any path made of the pieces path attacks use
// ('/', '.', "%2e", "%2f", ';', '\', letters, …), the path routing matched
// is the one the backend receives, or the request is refused.
func FuzzPathAgreement(f *testing.F) {
	for _, seed := range []string{"", "\x02\x02\x00\x0a", "\x01\x00\x03\x03\x00\x0a", "\x06\x02\x06\x0a", "\x07\x00\x0b"} {
		f.Add([]byte(seed))
	}
	a := enginetest.AgreementGateway(f, startNetHTTP)
	f.Fuzz(func(t *testing.T, b []byte) { a.Check(t, enginetest.FuzzPath(b)) })
}

// FuzzSniffer: whatever bytes come off a client connection, in whatever
// pieces, the head sniffer neither panics nor keeps more than a head's
// worth of them; and a stream of well-formed requests is never refused.
func FuzzSniffer(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\nT: 1\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n X: folded\r\n\r\n"), uint8(7))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		s := headSniffer{maxHead: 1 << 10}
		n := int(step)%17 + 1
		for i := 0; i < len(b); i += n {
			s.feed(b[i:min(i+n, len(b))])
			if s.pending != nil && len(*s.pending) > s.maxHead+n {
				t.Fatalf("gathered %d bytes of a head", len(*s.pending))
			}
		}
	})
}

// TestSnifferFollowsFraming: a stream of well-formed requests (bodies by
// length and chunked, trailers, LF-only lines), cut in pieces of every
// size, is read as its four heads and none is refused.
func TestSnifferFollowsFraming(t *testing.T) {
	good := "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nTrailer-X: y\r\n\r\n" +
		"GET /d HTTP/1.0\n\n"
	for n := 1; n <= len(good); n++ {
		s := headSniffer{maxHead: 1 << 10}
		for i := 0; i < len(good); i += n {
			s.feed([]byte(good[i:min(i+n, len(good))]))
		}
		if s.badAt.Load() != 0 || s.heads != 4 || s.state != sniffHead {
			t.Fatalf("pieces of %d: heads %d, refused at %d (%s), state %d; want 4 heads, none refused",
				n, s.heads, s.badAt.Load(), s.reason, s.state)
		}
	}
}
