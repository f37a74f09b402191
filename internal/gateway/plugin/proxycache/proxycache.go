// Package proxycache is the proxy-cache plugin: answers of the backend
// are stored (in the gateway's memory, bounded in bytes with the least
// recently used evicted first, or in the gateway's Redis) and later
// requests with the same key are answered from the store without calling
// the backend. Every answer of a cached route says what happened in
// X-Cache-Status (HIT, MISS, BYPASS, EXPIRED); a hit carries Age.
//
// The request filter answers hits (it runs last of the request filters:
// authentication and rate limits still apply to them). The response
// filter decides whether the backend's answer may be stored and, if so,
// asks the engine to tee its body (plugin.ResponseCapturer): an answer
// that will not be stored is never copied.
//
// Purges come with the configuration: a service's snapshot carries a
// cache epoch, part of every key, that a purge of the whole service
// changes, and a short list of purged keys that each gateway deletes
// once when it compiles the revision that brought them (Purges). A purge
// is thus an ordinary revision and reaches embedded and stand-alone
// gateways alike.
package proxycache

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Headers the plugin sets.
const (
	HeaderStatus = "X-Cache-Status"
	HeaderKey    = "X-Cache-Key"
)

// X-Cache-Status values.
const (
	StatusHit     = "HIT"
	StatusMiss    = "MISS"
	StatusBypass  = "BYPASS"
	StatusExpired = "EXPIRED"
)

// Purges are a service's cache purges, as its deployment in the group
// carries them.
type Purges struct {
	// Epoch is part of every key; a purge of the whole service changes
	// it, so nothing stored before is found again.
	Epoch string
	// Keys are purged keys, each deleted once by every gateway.
	Keys []PurgedKey
}

// PurgedKey is one purge of one key: the key in hex and when it was
// purged (Unix milliseconds), which tells two purges of a key apart.
type PurgedKey struct {
	Key string
	At  int64
}

// Filter is the compiled plugin of one service's or route's
// configuration.
type Filter struct {
	s      *settings
	scope  string
	epoch  string
	mem    *memStore
	remote Remote // strategy redis with the gateway's Redis; else nil
	now    func() time.Time
}

// New validates cfg and binds the filter to scope's store in reg (nil:
// validation, a fresh store). Keys in purges that this gateway has not
// purged yet are deleted now.
func New(cfg Config, reg *Registry, scope string, purges Purges) (*Filter, error) {
	s, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	f := &Filter{s: s, scope: scope, epoch: purges.Epoch, now: time.Now}
	if reg == nil {
		f.mem = newMemStore(s.memory)
		return f, nil
	}
	var rem Remote
	f.mem, rem = reg.store(scope, s.memory)
	if s.redis && rem != nil {
		f.remote = rem
	}
	var del func(Key)
	if f.remote != nil {
		del = f.remoteDel
	}
	f.mem.applyPurges(purges.Keys, del)
	return f, nil
}

// cacheable reports whether the request may be answered from, and its
// answer stored in, the cache.
func (f *Filter) cacheable(ex *plugin.Exchange) bool {
	switch ex.Method() {
	case http.MethodGet:
	case http.MethodHead:
		if !f.s.head {
			return false
		}
	default:
		return false
	}
	for _, h := range f.s.bypassHeaders {
		if v := ex.Header(h); v != "" && v != "0" {
			return false
		}
	}
	if f.s.clientNoCache && clientNoCache(ex.Header("Cache-Control"), ex.Header("Pragma")) {
		return false
	}
	if !f.s.authenticated {
		if _, ok := ex.Consumer(); ok || ex.Header("Authorization") != "" || ex.Header("Cookie") != "" {
			return false
		}
	}
	return true
}

// OnRequest answers a hit; otherwise it marks the answer MISS, EXPIRED
// or BYPASS and lets the request go on.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	if !f.cacheable(ex) {
		ex.SetResponseHeader(HeaderStatus, StatusBypass)
		return false
	}
	k := f.key(ex)
	ex.SetResponseHeader(HeaderKey, k.String())
	e := f.lookup(k)
	now := f.now()
	switch {
	case e != nil && now.Before(e.expires):
		for _, h := range e.header {
			ex.SetResponseHeader(h.Name, h.Value)
		}
		ex.SetResponseHeaderInt("Age", int64(max(now.Sub(e.stored), 0)/time.Second))
		ex.SetResponseHeader(HeaderStatus, StatusHit)
		ex.Respond(e.status, e.body)
		return true
	case e != nil:
		f.forget(k, e)
		ex.SetResponseHeader(HeaderStatus, StatusExpired)
	default:
		ex.SetResponseHeader(HeaderStatus, StatusMiss)
	}
	return false
}

// OnResponse asks the engine for the backend's answer when it may be
// stored: a cacheable GET, a status of cache_http_status, no Set-Cookie,
// a Vary within the configuration's, fresh for a second at least, not
// declared larger than max_entry_size.
func (f *Filter) OnResponse(ex *plugin.Exchange) {
	if ex.Method() != http.MethodGet || !f.s.cachesStatus(ex.ResponseStatus()) || !f.cacheable(ex) {
		return
	}
	if ex.ResponseHeader("Set-Cookie") != "" || !f.varyCovered(ex.ResponseHeader("Vary")) {
		return
	}
	ttl, ok := freshness(f.s.honor, f.s.ttl, respHeaders{
		cacheControl: ex.ResponseHeader("Cache-Control"), expires: ex.ResponseHeader("Expires"),
		date: ex.ResponseHeader("Date"), age: ex.ResponseHeader("Age"), pragma: ex.ResponseHeader("Pragma"),
	}, f.now())
	if !ok {
		return
	}
	if cl := ex.ResponseHeader("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > f.s.maxEntry {
			return
		}
	}
	ex.CaptureResponse(int(f.s.maxEntry), &pending{f: f, key: f.key(ex), ttl: ttl})
}

// varyCovered reports whether every header the answer's Vary names is
// part of the key (Origin aside).
func (f *Filter) varyCovered(vary string) bool {
	for vary != "" {
		var name string
		name, vary, _ = strings.Cut(vary, ",")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "*" {
			return false
		}
		if strings.EqualFold(name, "Origin") {
			// The cors plugin's: its headers are not stored but set
			// again for each request, hits included.
			continue
		}
		if !containsFold(f.s.vary, name) && !containsFold(f.s.keyHeaders, name) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// pending is an answer on its way into the cache.
type pending struct {
	f   *Filter
	key Key
	ttl time.Duration
}

// ResponseCaptured stores the answer as the client got it, without the
// headers that belong to one exchange (framing, Date, Age, the request
// id, rate-limit and CORS headers, which the request's own filters set
// again on a hit). An answer that set a cookie is not stored.
func (p *pending) ResponseCaptured(status int, header []plugin.HeaderField, body []byte) {
	f := p.f
	hdr := make([]plugin.HeaderField, 0, len(header))
	for _, h := range header {
		if strings.EqualFold(h.Name, "Set-Cookie") {
			return
		}
		if perExchange(h.Name) {
			continue
		}
		// Cloned: CanonicalHeaderKey answers its argument, the engine's
		// bytes, when it is canonical already.
		name := strings.Clone(http.CanonicalHeaderKey(h.Name))
		if i := indexHeader(hdr, name); i >= 0 {
			hdr[i].Value += ", " + h.Value
			continue
		}
		hdr = append(hdr, plugin.HeaderField{Name: name, Value: strings.Clone(h.Value)})
	}
	now := f.now()
	e := &entry{status: status, header: hdr, body: append([]byte(nil), body...), stored: now, expires: now.Add(p.ttl)}
	e.size = entrySize(status, hdr, e.body)
	if e.size > f.s.maxEntry { // max_entry_size bounds body and headers
		return
	}
	f.store(p.key, e)
}

func indexHeader(h []plugin.HeaderField, name string) int {
	for i := range h {
		if h[i].Name == name {
			return i
		}
	}
	return -1
}

// perExchange reports whether a header belongs to one exchange and is
// not stored.
func perExchange(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Te", "Trailer", "Upgrade",
		"Content-Length", "Date", "Age", "X-Request-Id", HeaderStatus, HeaderKey, "Retry-After",
		"Traceparent", "Tracestate":
		return true
	}
	l := len(name)
	return l > 12 && strings.EqualFold(name[:12], "X-Ratelimit-") ||
		l > 10 && strings.EqualFold(name[:10], "Ratelimit-") ||
		l > 15 && strings.EqualFold(name[:15], "Access-Control-")
}
