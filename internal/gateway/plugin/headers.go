package plugin

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// HeaderOps is the configuration shape every header-editing plugin shares
// (proxy-rewrite, request-transformer, response-transformer):
//
//	{"add": {"X-A": "1"}, "set": {"X-B": "2"}, "remove": ["X-C"]}
//
// add sets a header only when the request (or answer) lacks it; set
// replaces it; remove deletes it. Removals run first, then set, then add.
type HeaderOps struct {
	Add    map[string]string `json:"add,omitempty"`
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// HeaderEdits are compiled HeaderOps: names canonical, order fixed.
type HeaderEdits struct {
	remove []string
	set    []headerKV
	add    []headerKV
}

type headerKV struct{ name, value string }

// Empty reports whether there is nothing to do.
func (e *HeaderEdits) Empty() bool {
	return len(e.remove) == 0 && len(e.set) == 0 && len(e.add) == 0
}

// Compile checks names and values once; field prefixes error messages
// (e.g. "headers").
func (o HeaderOps) Compile(field string) (HeaderEdits, error) {
	var e HeaderEdits
	for i, n := range o.Remove {
		if !ValidHeaderName(n) {
			return e, fmt.Errorf("%s.remove[%d]: %q is not a header name", field, i, n)
		}
		if reserved(n) {
			return e, fmt.Errorf("%s.remove[%d]: %s is the gateway's to set", field, i, http.CanonicalHeaderKey(n))
		}
		e.remove = append(e.remove, http.CanonicalHeaderKey(n))
	}
	var err error
	if e.set, err = compileKVs(field+".set", o.Set); err != nil {
		return e, err
	}
	if e.add, err = compileKVs(field+".add", o.Add); err != nil {
		return e, err
	}
	return e, nil
}

func compileKVs(field string, m map[string]string) ([]headerKV, error) {
	var out []headerKV
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if !ValidHeaderName(n) {
			return nil, fmt.Errorf("%s: %q is not a header name", field, n)
		}
		if reserved(n) {
			return nil, fmt.Errorf("%s: %s is the gateway's to set", field, http.CanonicalHeaderKey(n))
		}
		if !ValidHeaderValue(m[n]) {
			return nil, fmt.Errorf("%s.%s: the value holds a control character", field, n)
		}
		out = append(out, headerKV{http.CanonicalHeaderKey(n), m[n]})
	}
	return out, nil
}

// ApplyUpstream edits the request the backend gets.
func (e *HeaderEdits) ApplyUpstream(ex *Exchange) {
	for _, n := range e.remove {
		ex.DelUpstreamHeader(n)
	}
	for _, kv := range e.set {
		ex.SetUpstreamHeader(kv.name, kv.value)
	}
	for _, kv := range e.add {
		if ex.Header(kv.name) == "" {
			ex.SetUpstreamHeader(kv.name, kv.value)
		}
	}
}

// ApplyResponse edits the answer to the client.
func (e *HeaderEdits) ApplyResponse(ex *Exchange) {
	for _, n := range e.remove {
		ex.DelResponseHeader(n)
	}
	for _, kv := range e.set {
		ex.SetResponseHeader(kv.name, kv.value)
	}
	for _, kv := range e.add {
		if ex.ResponseHeader(kv.name) == "" {
			ex.SetResponseHeader(kv.name, kv.value)
		}
	}
}

// ValidHeaderName reports whether s is an RFC 9110 token.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether s may be sent as a header value: no
// control byte but tab (no CR or LF that would split the header).
func ValidHeaderValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// reserved headers frame the message or route it: editing them would
// break the exchange (proxy-rewrite has its own host field).
func reserved(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Te", "Trailer", "Keep-Alive", "X-Request-Id":
		return true
	}
	return false
}
