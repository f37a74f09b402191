// Package requesttransformer is the request-transformer plugin: it edits
// the request the backend gets — headers added, set or removed, query
// parameters renamed, added, set or removed.
package requesttransformer

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	Headers plugin.HeaderOps `json:"headers,omitzero"`
	Query   QueryOps         `json:"query,omitzero"`
}

// QueryOps edit query parameters: rename {old: new} keeps the values;
// remove drops them; set replaces (or adds); add adds when absent.
// Rename runs first, then remove, set and add.
type QueryOps struct {
	Rename map[string]string `json:"rename,omitempty"`
	Remove []string          `json:"remove,omitempty"`
	Set    map[string]string `json:"set,omitempty"`
	Add    map[string]string `json:"add,omitempty"`
}

// Filter is the compiled plugin.
type Filter struct {
	headers plugin.HeaderEdits
	rename  map[string]kv // old (unescaped) → new name, its escaped form in pair
	remove  map[string]bool
	set     []kv // escaped, sorted
	add     []kv
	query   bool // any query op
}

type kv struct {
	name, pair string // pair is "name=value", escaped
}

// New validates cfg.
func New(cfg Config) (*Filter, error) {
	h, err := cfg.Headers.Compile("headers")
	if err != nil {
		return nil, err
	}
	f := &Filter{headers: h, rename: map[string]kv{}, remove: map[string]bool{}}
	q := cfg.Query
	for _, old := range slices.Sorted(maps.Keys(q.Rename)) {
		nw := q.Rename[old]
		if old == "" || nw == "" {
			return nil, errors.New("query.rename: names must not be empty")
		}
		f.rename[old] = kv{nw, url.QueryEscape(nw)}
	}
	for i, n := range q.Remove {
		if n == "" {
			return nil, fmt.Errorf("query.remove[%d]: name must not be empty", i)
		}
		f.remove[n] = true
	}
	if f.set, err = pairs("query.set", q.Set); err != nil {
		return nil, err
	}
	if f.add, err = pairs("query.add", q.Add); err != nil {
		return nil, err
	}
	f.query = len(f.rename)+len(f.remove)+len(f.set)+len(f.add) > 0
	if !f.query && h.Empty() {
		return nil, errors.New("set at least one of headers or query")
	}
	return f, nil
}

func pairs(field string, m map[string]string) ([]kv, error) {
	var out []kv
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if n == "" {
			return nil, fmt.Errorf("%s: name must not be empty", field)
		}
		out = append(out, kv{n, url.QueryEscape(n) + "=" + url.QueryEscape(m[n])})
	}
	return out, nil
}

// OnRequest edits the upstream request.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	f.headers.ApplyUpstream(ex)
	if f.query {
		if q, changed := f.rewriteQuery(ex.QueryForUpstream()); changed {
			ex.SetUpstreamQuery(q)
		}
	}
	return false
}

// rewriteQuery applies the query ops to raw, keeping the order and
// escaping of the parameters it does not touch. It allocates only when
// something changes.
func (f *Filter) rewriteQuery(raw string) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw) + 32)
	changed := false
	seen := map[string]bool(nil)
	rest := raw
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName // left as the client sent it
		}
		if nw, ok := f.rename[name]; ok {
			name, rawName, changed = nw.name, nw.pair, true
		}
		if f.remove[name] || f.isSet(name) {
			changed = true
			continue
		}
		if len(f.add) > 0 {
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[name] = true
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(rawName)
		if hasValue {
			b.WriteByte('=')
			b.WriteString(rawValue)
		}
	}
	for _, p := range f.set {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.pair)
		changed = true
	}
	for _, p := range f.add {
		if seen[p.name] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.pair)
		changed = true
	}
	if !changed {
		return raw, false
	}
	return b.String(), true
}

func (f *Filter) isSet(name string) bool {
	for _, p := range f.set {
		if p.name == name {
			return true
		}
	}
	return false
}
