// Package limitcount is the limit-count plugin: at most count requests per
// time window per key (consumer, client address, route or a header), with
// X-RateLimit-* headers and 429 + Retry-After past the limit. Counters live
// in a Registry the gateway keeps across config reloads, so publishing does
// not reset anyone's quota.
package limitcount

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	Count      int64   `json:"count"`
	TimeWindow float64 `json:"time_window"` // seconds
	// Key is consumer, remote_addr, route or header:NAME; consumer falls
	// back to the client address when no credential identified one.
	Key string `json:"key,omitempty" default:"consumer"`
	// Policy is local (counters in this gateway) or redis (one counter per
	// key shared by every gateway through the gateway's --redis; while
	// Redis is unreachable each gateway counts locally).
	Policy string `json:"policy,omitempty" enum:"local,redis" default:"local"`
}

// key kinds

// Filter is the compiled plugin for one route.
type Filter struct {
	count    int64
	window   time.Duration
	key      plugin.LimitKey
	limit    string // Count formatted once
	counters *window

	// Policy redis: remote is the registry's Redis; scoped says the config
	// sits on the route (not inherited from the service); base is the key
	// prefix, made from the route's names at its first request.
	remote *remoteState
	scoped bool
	id     string
	base   atomic.Pointer[string]
}

// New validates cfg and binds the filter to its counters in reg, found by
// scope (the route's stable id and where the config came from) so a reload
// keeps them. reg may be nil (validation only).
func New(cfg Config, reg *Registry, scope string) (*Filter, error) {
	if cfg.Count <= 0 {
		return nil, errors.New("count must be a positive number of requests")
	}
	if cfg.TimeWindow <= 0 || cfg.TimeWindow > 366*24*3600 || math.IsNaN(cfg.TimeWindow) {
		return nil, errors.New("time_window must be a positive number of seconds (at most a year)")
	}
	switch cfg.Policy {
	case "", "local":
	case "redis":
	default:
		return nil, fmt.Errorf("policy %q is not local or redis", cfg.Policy)
	}
	f := &Filter{count: cfg.Count, window: time.Duration(cfg.TimeWindow * float64(time.Second)),
		limit: strconv.FormatInt(cfg.Count, 10)}
	key, err := plugin.ParseLimitKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	f.key = key
	if f.window < time.Millisecond {
		return nil, errors.New("time_window must be at least a millisecond")
	}
	if reg == nil {
		reg = NewRegistry()
	}
	f.id = fmt.Sprintf("%s|%d|%d", cfg.Key, cfg.Count, f.window.Milliseconds())
	f.counters = reg.window(scope + "|" + f.id)
	if cfg.Policy == "redis" {
		f.remote = reg.remoteState()
		f.scoped = strings.Contains(scope, "|route:")
	}
	return f, nil
}

// keyBase is the filter's Redis key prefix. It names the route by group,
// project, service and route names, not ids: gateways of separate control
// planes (test and production installs) publishing the same service share
// the counter, as do all gateways of one.
func (f *Filter) keyBase(ex *plugin.Exchange) string {
	if p := f.base.Load(); p != nil {
		return *p
	}
	var b strings.Builder
	b.WriteString(f.remote.opts.prefixOr())
	b.WriteString("lc:")
	if ri := ex.Route(); ri != nil {
		b.WriteString(ri.Group + "|" + ri.ProjectID + "|" + ri.ServiceName)
		if f.scoped {
			b.WriteString("|" + ri.RouteName)
		}
	}
	b.WriteString("|" + f.id + ":")
	s := b.String()
	f.base.Store(&s)
	return s
}

// OnRequest counts the request against its key's quota.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	now := ex.Arrived()
	if f.remote != nil {
		if used, resetAt, ok := f.countRemote(ex, now); ok {
			return f.answer(ex, now, used, resetAt)
		}
	}
	used, resetAt := f.counters.hit(now, f.window, f.key.Of(ex))
	return f.answer(ex, now, used, resetAt)
}

// countRemote counts the request in Redis; ok is false when it must be
// counted locally.
func (f *Filter) countRemote(ex *plugin.Exchange, now time.Time) (used int64, resetAt time.Time, ok bool) {
	n := now.UnixNano()
	length := int64(f.window)
	index := n / length
	var buf [160]byte
	var value []byte
	switch k := f.key.Of(ex); k.Kind {
	case plugin.KeyHeader:
		value = appendValue(buf[:0], k.S)
	case plugin.KeyConsumer:
		value = append(append(buf[:0], "c:"...), k.S...)
	case plugin.KeyAddr:
		value = k.Addr.AppendTo(append(buf[:0], "a:"...))
	}
	key := appendKey(make([]byte, 0, 96+len(value)), f.keyBase(ex), index, value)
	used, ok = f.remote.incr(now, string(key), f.window)
	if !ok {
		return 0, time.Time{}, false
	}
	return used, time.Unix(0, (index+1)*length), true
}

// appendValue appends a header value as a key part; a long one is hashed
// so a client cannot make Redis keys of any size.
func appendValue(dst []byte, v string) []byte {
	dst = append(dst, "h:"...)
	if len(v) <= 64 {
		return append(dst, v...)
	}
	sum := sha256.Sum256([]byte(v))
	return hex.AppendEncode(append(dst, '#'), sum[:])
}

// answer sets the X-RateLimit-* headers and refuses a request over the limit.
func (f *Filter) answer(ex *plugin.Exchange, now time.Time, used int64, resetAt time.Time) bool {
	remaining := max(f.count-used, 0)
	reset := int64(math.Ceil(resetAt.Sub(now).Seconds()))
	ex.SetResponseHeader("X-RateLimit-Limit", f.limit)
	ex.SetResponseHeaderInt("X-RateLimit-Remaining", remaining)
	ex.SetResponseHeaderInt("X-RateLimit-Reset", reset)
	if used > f.count {
		ex.SetResponseHeaderInt("Retry-After", max(reset, 1))
		ex.Reject(http.StatusTooManyRequests, "rate_limited", "too many requests; retry after the time in Retry-After")
		return true
	}
	return false
}

// window counts hits per key in fixed windows aligned to the window
// length. Only the current window's counts are kept, so memory is bounded
// by the keys seen in one window.
type window struct {
	mu    sync.Mutex
	start int64 // unix nanos of the current window's start
	// counts point to each key's count, so that a hit of a known key
	// never assigns to the map: an assignment stores the key given, and
	// a header's key is the engine's view of its buffer, which the next
	// request overwrites — the stored key would turn into another
	// client's, and take its count.
	counts map[plugin.RequestKey]*int64
}

func (w *window) hit(now time.Time, length time.Duration, k plugin.RequestKey) (used int64, resetAt time.Time) {
	n := now.UnixNano()
	start := n - n%int64(length)
	w.mu.Lock()
	// A request counted late (it arrived before one that already opened
	// the next window) counts in the current window: going back would
	// clear the current counts.
	start = max(start, w.start)
	if start != w.start || w.counts == nil {
		w.start = start
		clear(w.counts)
		if w.counts == nil {
			w.counts = map[plugin.RequestKey]*int64{}
		}
	}
	c, ok := w.counts[k]
	if !ok {
		if k.S != "" {
			k.S = strings.Clone(k.S) // the engine's view of a header is not ours to keep
		}
		c = new(int64)
		w.counts[k] = c
	}
	*c++
	used = *c
	w.mu.Unlock()
	return used, time.Unix(0, start+int64(length))
}

// Registry holds the counters of every limit-count filter, across reloads.
type Registry struct {
	mu     sync.Mutex
	m      map[string]*window
	remote *remoteState // policy redis; nil until UseRemote or first use
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]*window{}} }

func (r *Registry) window(id string) *window {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[id]
	if !ok {
		w = &window{}
		r.m[id] = w
	}
	return w
}
