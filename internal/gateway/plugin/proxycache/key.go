package proxycache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// keyVersion starts every key: changing how keys are made changes it, so
// a Redis shared with gateways of another release never mixes them.
const keyVersion = "proxy-cache/1"

// keyScratch is the reused memory of one key's making.
type keyScratch struct {
	b     []byte
	pairs []queryPair
}

type queryPair struct{ name, value string }

var scratches = sync.Pool{New: func() any { return &keyScratch{b: make([]byte, 0, 512)} }}

// key is the request's cache key: the configuration's scope and the
// service's cache epoch (a purge of the service changes it), method (HEAD
// as GET: it is answered from GET's entries), host, path, the chosen
// query parameters (all of them normalised by default) and request
// headers, the vary headers, and who is asking when the answer may
// depend on it (the consumer's application, or, for credentials no
// plugin checked, their values). Every part is length-prefixed, so no
// value can pass for another part.
func (f *Filter) key(ex *plugin.Exchange) Key {
	ks := scratches.Get().(*keyScratch)
	b := ks.b[:0]
	b = appendPart(b, keyVersion)
	b = appendPart(b, f.scope)
	b = appendPart(b, f.epoch)
	m := ex.Method()
	if m == "HEAD" {
		m = "GET"
	}
	b = appendPart(b, m)
	b = appendPart(b, strings.ToLower(ex.Host())) // allocates only for a host with capitals
	b = appendPart(b, ex.Path())
	b = f.appendQuery(b, ks, ex.RawQuery())
	for _, h := range f.s.keyHeaders {
		b = appendHeader(b, h, ex.HeaderValues(h))
	}
	for _, h := range f.s.vary {
		b = appendHeader(b, h, ex.HeaderValues(h))
	}
	if c, ok := ex.Consumer(); ok {
		b = appendPart(b, "consumer")
		b = appendPart(b, c.ApplicationID)
	} else if f.s.authenticated {
		// Credentials the gateway did not check (the backend does):
		// each distinct one has its own entries.
		b = appendHeader(b, "Authorization", ex.HeaderValues("Authorization"))
		b = appendHeader(b, "Cookie", ex.HeaderValues("Cookie"))
	}
	sum := sha256.Sum256(b)
	ks.b = b
	clear(ks.pairs)
	ks.pairs = ks.pairs[:0]
	scratches.Put(ks)
	return Key(sum[:16])
}

func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendHeader(b []byte, name string, values []string) []byte {
	b = appendPart(b, name)
	b = binary.AppendUvarint(b, uint64(len(values)))
	for _, v := range values {
		b = appendPart(b, v)
	}
	return b
}

// appendQuery adds the query: every parameter sorted by name (values of
// one name in the client's order), escapes decoded, so ?b=2&a=1 and
// ?a=%31&b=2 share an entry; or only the configured parameters, in the
// configuration's order.
func (f *Filter) appendQuery(b []byte, ks *keyScratch, raw string) []byte {
	if !f.s.allQuery && len(f.s.query) == 0 {
		return appendPart(b, "")
	}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		ks.pairs = append(ks.pairs, queryPair{unescape(name), unescape(value)})
	}
	b = appendPart(b, "query")
	if f.s.allQuery {
		slices.SortStableFunc(ks.pairs, func(x, y queryPair) int { return strings.Compare(x.name, y.name) })
		b = binary.AppendUvarint(b, uint64(len(ks.pairs)))
		for _, p := range ks.pairs {
			b = appendPart(b, p.name)
			b = appendPart(b, p.value)
		}
		return b
	}
	for _, name := range f.s.query {
		b = appendPart(b, name)
		n := 0
		for _, p := range ks.pairs {
			if p.name == name {
				n++
			}
		}
		b = binary.AppendUvarint(b, uint64(n))
		for _, p := range ks.pairs {
			if p.name == name {
				b = appendPart(b, p.value)
			}
		}
	}
	return b
}

// unescape decodes a query component; one that does not decode is kept
// as sent (it is still one distinct key).
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// String is the key in hex: X-Cache-Key's value.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ParseKey reads a key in hex.
func ParseKey(s string) (Key, bool) {
	var k Key
	if len(s) != 2*len(k) {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, false
	}
	return k, true
}
