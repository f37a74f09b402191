// Package limitreq is the limit-req plugin: a leaky bucket per key
// (consumer, client address, route or a header). Requests leave at rate
// per second; up to burst more are let through early (nodelay) or held
// until their turn; beyond that the answer is 429 with Retry-After. Like
// limit-count's counters, the buckets live in a Registry the gateway keeps
// across config reloads.
package limitreq

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	Rate  float64 `json:"rate"`  // requests per second
	Burst float64 `json:"burst"` // requests over the rate absorbed
	// Key is consumer (default; the client address without one),
	// remote_addr, route or header:NAME.
	Key string `json:"key,omitempty" default:"consumer"`
	// NoDelay lets burst requests through at once instead of holding
	// each until the rate allows it.
	NoDelay bool `json:"nodelay,omitempty"`
}

// maxDelay bounds how long a held request waits, whatever rate and burst
// say: a gateway should not park requests for minutes.
const maxDelay = 10 * time.Second

// Filter is the compiled plugin.
type Filter struct {
	interval  int64 // nanoseconds between two requests at the rate
	tolerance int64 // burst × interval
	key       plugin.LimitKey
	limit     string
	nodelay   bool
	buckets   *buckets
	sleep     func(time.Duration)
}

// New validates cfg and binds the filter to its buckets in reg (found by
// scope, stable across reloads); reg may be nil (validation).
func New(cfg Config, reg *Registry, scope string) (*Filter, error) {
	if !(cfg.Rate > 0) || cfg.Rate > 1e6 || math.IsInf(cfg.Rate, 0) {
		return nil, errors.New("rate must be a positive number of requests per second (at most 1e6)")
	}
	if !(cfg.Burst >= 0) || cfg.Burst > 1e6 || math.IsInf(cfg.Burst, 0) {
		return nil, errors.New("burst must be 0 or a positive number of requests (at most 1e6)")
	}
	interval := int64(float64(time.Second) / cfg.Rate)
	f := &Filter{
		interval: max(interval, 1), tolerance: int64(cfg.Burst * float64(interval)),
		limit: strconv.FormatFloat(cfg.Rate, 'f', -1, 64), nodelay: cfg.NoDelay,
		sleep: time.Sleep,
	}
	if !cfg.NoDelay && time.Duration(f.tolerance) > maxDelay {
		return nil, fmt.Errorf("burst / rate holds a request up to %v; at most %v (or set nodelay)", time.Duration(f.tolerance), maxDelay)
	}
	key, err := plugin.ParseLimitKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	f.key = key
	if reg == nil {
		reg = NewRegistry()
	}
	f.buckets = reg.get(fmt.Sprintf("%s|%s|%d|%d|%t", scope, cfg.Key, f.interval, f.tolerance, cfg.NoDelay))
	return f, nil
}

// OnRequest admits, holds or refuses the request.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	k := f.key.Of(ex)
	now := ex.Arrived().UnixNano()
	wait, ok := f.buckets.take(now, k, f.interval, f.tolerance)
	if !ok {
		retry := max(int64(math.Ceil(float64(wait)/float64(time.Second))), 1)
		s := strconv.FormatInt(retry, 10)
		ex.SetResponseHeader("X-RateLimit-Limit", f.limit)
		ex.SetResponseHeader("X-RateLimit-Remaining", "0")
		ex.SetResponseHeader("X-RateLimit-Reset", s)
		ex.SetResponseHeader("Retry-After", s)
		ex.Reject(http.StatusTooManyRequests, "rate_limited", "too many requests; retry after the time in Retry-After")
		return true
	}
	if wait > 0 && !f.nodelay {
		f.sleep(time.Duration(wait)) // its turn at the rate
	}
	return false
}

// buckets are the theoretical arrival times (GCRA) of one filter's keys.
type buckets struct {
	mu sync.Mutex
	// tat points to each key's arrival time, so that a request of a known
	// key never assigns to the map: an assignment stores the key given,
	// and a header's key is the engine's view of its buffer, which the
	// next request overwrites — the stored key would turn into another
	// client's, and take its bucket.
	tat       map[plugin.RequestKey]*int64
	lastSweep int64
}

// sweepAt is the number of keys above which idle ones are dropped.
const sweepAt = 4096

// take admits a request at now. ok is false when it is over rate and
// burst; wait is then how long until one would be admitted, and otherwise
// how far the request is ahead of the rate (the hold without nodelay).
func (b *buckets) take(now int64, k plugin.RequestKey, interval, tolerance int64) (wait int64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, seen := b.tat[k]
	tat := now
	if seen && *p > now {
		tat = *p
	}
	if tat-now > tolerance {
		return tat - now - tolerance, false
	}
	if !seen {
		if len(b.tat) >= sweepAt && now-b.lastSweep > int64(time.Second) {
			b.sweep(now)
		}
		if k.S != "" {
			k.S = strings.Clone(k.S) // the engine's view of a header is not ours to keep
		}
		p = new(int64)
		b.tat[k] = p
	}
	*p = tat + interval
	return tat - now, true
}

// sweep drops keys whose bucket has drained: they are as good as new.
func (b *buckets) sweep(now int64) {
	b.lastSweep = now
	for k, tat := range b.tat {
		if *tat <= now {
			delete(b.tat, k)
		}
	}
}

// Registry holds the buckets of every limit-req filter, across reloads.
type Registry struct {
	mu sync.Mutex
	m  map[string]*buckets
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]*buckets{}} }

func (r *Registry) get(id string) *buckets {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.m[id]
	if !ok {
		b = &buckets{tat: map[plugin.RequestKey]*int64{}}
		r.m[id] = b
	}
	return b
}
