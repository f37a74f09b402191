package proxycache

import (
	"net/http"
	"strings"
	"time"
)

// cacheControl is what a Cache-Control header says to a shared cache.
// Ages are seconds; -1 when absent.
type cacheControl struct {
	maxAge, sMaxAge int64
	noStore         bool
	noCache         bool
	private         bool
}

// maxDelta bounds a parsed age: RFC 9111 §1.2.2 caps delta-seconds at
// 2^31, a value past it means "a very long time".
const maxDelta = 1 << 31

// parseCacheControl reads a Cache-Control value (RFC 9111 §5.2):
// comma-separated directives, case-insensitive names, values as tokens
// or quoted strings. Unknown directives are ignored; a max-age or
// s-maxage that is not a number counts as 0 (stale at once, §4.2.1).
// It never fails and does not allocate.
func parseCacheControl(v string) cacheControl {
	cc := cacheControl{maxAge: -1, sMaxAge: -1}
	for v != "" {
		var d string
		d, v = nextDirective(v)
		name, value, _ := strings.Cut(d, "=")
		name = strings.TrimSpace(name)
		value = unquote(strings.TrimSpace(value))
		switch {
		case strings.EqualFold(name, "no-store"):
			cc.noStore = true
		case strings.EqualFold(name, "no-cache"):
			cc.noCache = true
		case strings.EqualFold(name, "private"):
			cc.private = true
		case strings.EqualFold(name, "max-age"):
			cc.maxAge = deltaSeconds(value)
		case strings.EqualFold(name, "s-maxage"):
			cc.sMaxAge = deltaSeconds(value)
		}
	}
	return cc
}

// nextDirective splits off the first directive; a comma inside a quoted
// value does not end it.
func nextDirective(v string) (d, rest string) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted:
			i++
		case c == ',' && !quoted:
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// deltaSeconds parses a non-negative number of seconds, capped at
// maxDelta; anything else is 0.
func deltaSeconds(s string) int64 {
	if s == "" {
		return 0
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDelta)
}

// respHeaders are the backend's headers that decide an answer's
// freshness.
type respHeaders struct {
	cacheControl, expires, date, age, pragma string
}

// freshness is how long an answer may be served: the configured ttl, or,
// honoring the backend, s-maxage, max-age or Expires (less the Age the
// answer already has). ok is false when the answer must not be stored.
func freshness(honor bool, ttl time.Duration, h respHeaders, now time.Time) (time.Duration, bool) {
	if !honor {
		return ttl, true
	}
	cc := parseCacheControl(h.cacheControl)
	if cc.noStore || cc.private || cc.noCache {
		return 0, false
	}
	if h.cacheControl == "" && hasToken(h.pragma, "no-cache") {
		return 0, false
	}
	var d time.Duration
	switch {
	case cc.sMaxAge >= 0:
		d = time.Duration(cc.sMaxAge) * time.Second
	case cc.maxAge >= 0:
		d = time.Duration(cc.maxAge) * time.Second
	case h.expires != "":
		exp, err := http.ParseTime(h.expires)
		if err != nil {
			return 0, false // an invalid Expires is a time in the past (RFC 9111 §5.3)
		}
		base := now
		if date, err := http.ParseTime(h.date); err == nil {
			base = date
		}
		d = exp.Sub(base)
	default:
		d = ttl
	}
	if h.age != "" {
		d -= time.Duration(deltaSeconds(h.age)) * time.Second
	}
	d = min(d, maxTTL*time.Second)
	if d < time.Second {
		return 0, false
	}
	return d, true
}

// clientNoCache reports whether the client asked for a fresh answer:
// Cache-Control no-cache, no-store or max-age=0, or Pragma: no-cache
// without a Cache-Control.
func clientNoCache(cacheControl, pragma string) bool {
	if cacheControl == "" {
		return hasToken(pragma, "no-cache")
	}
	cc := parseCacheControl(cacheControl)
	return cc.noCache || cc.noStore || cc.maxAge == 0
}

// hasToken reports whether a comma-separated list holds token (ASCII
// case-insensitive).
func hasToken(list, token string) bool {
	for list != "" {
		var t string
		t, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}
