// Package reqpolicy is the one request policy both gateway engines
// enforce before a route is looked up: how a request path is normalised
// (and which paths are refused), which Host values are accepted, and which
// header syntax and body framing are refused. Routing, plugins and the
// backend must all see the same path: a gateway that matches one reading
// of a path and forwards another lets a request walk past the policies of
// the route it really reaches.
package reqpolicy

import "bytes"

// Reasons a path is refused; each is the message of a 400 answer.
const (
	ReasonNotAPath     = "the request target is not a path"
	ReasonBadEscape    = "the request path holds an invalid escape"
	ReasonEncodedSlash = "the request path holds an encoded slash (%2F)"
	ReasonBackslash    = "the request path holds a backslash"
	ReasonSemicolon    = "the request path holds a semicolon (path parameters are not accepted)"
	ReasonControl      = "the request path holds a control character"
)

// Normalize returns the path routing, plugins and the backend see for the
// escaped path raw of a request target (origin form, without the query):
//
//   - percent-escapes are decoded; an invalid escape is refused;
//   - an encoded '/' (%2F), a '\' (raw or %5C), a ';' (raw or %3B), NUL and
//     other control bytes (raw or escaped) are refused, because backends
//     disagree on what they mean (a separator, a path parameter, the end of
//     the string);
//   - runs of '/' are merged into one, then "." and ".." segments (decoded
//     ones included) are removed as RFC 3986 section 5.2.4 says; ".." never
//     climbs above the root. Merging first is what nginx and path.Clean
//     do: "/a//../b" is "/b", never "/a/b".
//
// clean reports that raw needed none of this: the result is raw itself (no
// copy), and the request can be forwarded as it came. Otherwise the result
// is written into buf (which it may grow) and the request must be forwarded
// with AppendEscaped of it. reason is non-empty when the path is refused.
func Normalize(buf []byte, raw []byte) (path []byte, clean bool, reason string) {
	if len(raw) == 0 || raw[0] != '/' {
		return nil, false, ReasonNotAPath
	}
	if isClean(raw) {
		return raw, true, ""
	}
	dec := buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || Unhex(raw[i+1]) < 0 || Unhex(raw[i+2]) < 0 {
				return nil, false, ReasonBadEscape
			}
			c = byte(Unhex(raw[i+1])<<4 | Unhex(raw[i+2]))
			i += 2
			if c == '/' {
				return nil, false, ReasonEncodedSlash
			}
		}
		switch {
		case c == '\\':
			return nil, false, ReasonBackslash
		case c == ';':
			return nil, false, ReasonSemicolon
		case c < 0x20 || c == 0x7f:
			return nil, false, ReasonControl
		}
		dec = append(dec, c)
	}
	// Remove dot segments and empty segments in place: the write position
	// never passes the read position.
	n := len(dec)
	w := 1 // dec[0] is '/'
	for i := 1; i <= n; {
		j := i
		for j < n && dec[j] != '/' {
			j++
		}
		seg := dec[i:j]
		last := j == n
		switch {
		case len(seg) == 0, len(seg) == 1 && seg[0] == '.':
			// merged slash or "." segment: nothing to write
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			if w > 1 { // drop the last written segment, keep its leading '/'
				k := w - 2
				for dec[k] != '/' {
					k--
				}
				w = k + 1
			}
		default:
			w += copy(dec[w:], seg)
			if !last {
				dec[w] = '/'
				w++
			}
		}
		i = j + 1
	}
	return dec[:w], false, ""
}

// isClean reports that raw holds nothing Normalize would change or refuse:
// no escape, no backslash, semicolon or control byte, no empty and no dot
// segment. It is the common case and costs one pass.
func isClean(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%', c == '\\', c == ';', c < 0x21, c == 0x7f:
			return false
		case c == '/':
			rest := raw[i+1:]
			if len(rest) > 0 && rest[0] == '/' || isDotSegment(rest) {
				return false
			}
		}
	}
	return true
}

// isDotSegment reports whether p (the bytes after a '/') starts with a "."
// or ".." segment.
func isDotSegment(p []byte) bool {
	if len(p) == 0 || p[0] != '.' {
		return false
	}
	if len(p) == 1 || p[1] == '/' {
		return true
	}
	return p[1] == '.' && (len(p) == 2 || p[2] == '/')
}

// Unhex is the value of a hex digit, or -1.
func Unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// pathChars marks the bytes a path segment keeps unescaped: RFC 3986's
// pchar (unreserved, sub-delims, ':' and '@') and '/'.
var pathChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-._~!$&'()*+,;=:@/" {
		t[c] = true
	}
	return t
}()

const hexDigits = "0123456789ABCDEF"

// AppendEscaped appends the escaped form of a decoded (normalised) path:
// the bytes of the request line that decode to exactly p.
func AppendEscaped(dst []byte, p []byte) []byte {
	for _, c := range p {
		if pathChars[c] {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// RawPath is the escaped path of a request target: origin form up to the
// query, or the path of an absolute-form target ("/" when it has none).
func RawPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i > 0 {
			rest := uri[i+3:]
			j := bytes.IndexByte(rest, '/')
			if j < 0 {
				return []byte{'/'}
			}
			uri = rest[j:]
		}
	}
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	return uri
}
