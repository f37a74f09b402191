package plugin

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Kinds of RequestKey.
const (
	KeyRoute    byte = 0 // the whole route: one counter
	KeyConsumer byte = 'c'
	KeyAddr     byte = 'a'
	KeyHeader   byte = 'h'
)

// LimitKey is what a rate limit counts by (the `key` of limit-count and
// limit-req): "consumer" (the default; a request without
// one counts by its client address), "remote_addr", "route" or
// "header:NAME".
type LimitKey struct {
	by     byte
	header string // canonical, so a header lookup does not allocate
}

// ParseLimitKey reads a key setting.
func ParseLimitKey(k string) (LimitKey, error) {
	switch {
	case k == "" || k == "consumer":
		return LimitKey{by: KeyConsumer}, nil
	case k == "remote_addr":
		return LimitKey{by: KeyAddr}, nil
	case k == "route":
		return LimitKey{by: KeyRoute}, nil
	case strings.HasPrefix(k, "header:") && len(k) > len("header:"):
		return LimitKey{by: KeyHeader, header: http.CanonicalHeaderKey(k[len("header:"):])}, nil
	}
	return LimitKey{}, fmt.Errorf("key %q is not consumer, remote_addr, route or header:NAME", k)
}

// RequestKey is the key one request counts under; comparable, so it can
// key a map. S is borrowed from the engine: clone it before keeping it.
type RequestKey struct {
	Kind byte
	S    string // the consumer's application id or the header's value
	Addr netip.Addr
}

// Of is the key of the request in ex.
func (k LimitKey) Of(ex *Exchange) RequestKey {
	switch k.by {
	case KeyRoute:
		return RequestKey{}
	case KeyHeader:
		return RequestKey{Kind: KeyHeader, S: ex.Header(k.header)}
	case KeyConsumer:
		if c, ok := ex.Consumer(); ok {
			return RequestKey{Kind: KeyConsumer, S: c.ApplicationID}
		}
	}
	return RequestKey{Kind: KeyAddr, Addr: ex.ClientAddr()}
}
