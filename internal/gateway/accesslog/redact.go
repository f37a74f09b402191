package accesslog

import (
	"fmt"
	"strings"
)

// DefaultRedacted are the query parameters whose values the access log
// hides unless configured otherwise: the usual names of credentials and
// one-time codes that clients put in URLs.
var DefaultRedacted = []string{
	"api_key", "apikey", "key", "token", "access_token", "refresh_token",
	"password", "passwd", "secret", "client_secret", "signature", "sig", "code",
}

// Redacted is what replaces a redacted parameter's value.
const Redacted = "***"

// Redactor replaces the values of named query parameters by "***". Names
// match case-insensitively (ASCII) after percent-decoding, and a name may
// be a glob where '*' matches any run of characters ("*token*"). A
// Redactor is immutable and safe for concurrent use.
type Redactor struct {
	exact map[string]bool // lower-case names without '*'
	globs []string        // lower-case names with '*'
}

// NewRedactor returns a Redactor for names (globs allowed). An empty list
// redacts nothing.
func NewRedactor(names []string) (*Redactor, error) {
	r := &Redactor{exact: make(map[string]bool, len(names))}
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return nil, fmt.Errorf("redacted query parameter %d: empty name", i)
		}
		if strings.ContainsAny(n, "&=") {
			return nil, fmt.Errorf("redacted query parameter %q: a name cannot contain '&' or '='", n)
		}
		if n = lowerASCII(n); strings.Contains(n, "*") {
			r.globs = append(r.globs, n)
		} else {
			r.exact[n] = true
		}
	}
	return r, nil
}

// defaultRedactor is a Redactor of DefaultRedacted.
func defaultRedactor() *Redactor {
	r, err := NewRedactor(DefaultRedacted)
	if err != nil {
		panic(err) // DefaultRedacted is a constant list of valid names
	}
	return r
}

// Append appends rawQuery to dst with the values of matching parameters
// replaced by "***", and returns the extended buffer. Everything else is
// copied byte for byte. It allocates nothing when dst has the capacity
// (the decoded name of each parameter is compared in dst's spare room).
func (r *Redactor) Append(dst []byte, rawQuery string) []byte {
	for {
		param := rawQuery
		amp := strings.IndexByte(rawQuery, '&')
		if amp >= 0 {
			param = rawQuery[:amp]
		}
		name, _, hasValue := strings.Cut(param, "=")
		if hasValue && r.matches(&dst, name) {
			dst = append(dst, name...)
			dst = append(dst, '=')
			dst = append(dst, Redacted...)
		} else {
			dst = append(dst, param...)
		}
		if amp < 0 {
			return dst
		}
		dst = append(dst, '&')
		rawQuery = rawQuery[amp+1:]
	}
}

// matches reports whether the raw (percent-encoded) parameter name matches
// a pattern. The decoded, lower-cased name is written past len(*dst) and
// the length restored, so the buffer's spare capacity is the scratch.
func (r *Redactor) matches(dst *[]byte, rawName string) bool {
	if r == nil || len(r.exact) == 0 && len(r.globs) == 0 {
		return false
	}
	n := len(*dst)
	buf := appendDecodedLower(*dst, rawName)
	*dst = buf[:n]
	name := buf[n:]
	if r.exact[string(name)] {
		return true
	}
	for _, p := range r.globs {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// appendDecodedLower appends the query-decoded ('+' is a space, %XX a
// byte; a malformed escape stays literal) and ASCII-lower-cased s.
func appendDecodedLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// globMatch reports whether name matches pattern, where '*' matches any
// run of bytes. Iterative with one backtrack point: linear in practice,
// never exponential.
func globMatch(pattern string, name []byte) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
