// Package quota counts the calls of subscriptions against their plan's
// quotas (spec.ConsumerPlan): at most Count calls per second, minute,
// hour, day or month, the day and the month being calendar periods in the
// gateway group's time zone. It is no configured plugin: the routing
// compiler adds a Filter, in the subscription phase after authentication,
// to every route of a service some application of the group holds a plan
// for. Counts live in a Registry the gateway keeps across configuration
// reloads, shared by every gateway through Redis when it has one.
//
// Counting, per call of an application that holds a plan for the service:
//
//   - Every quota of the plan is checked and counted at once: when one is
//     used up the call is refused and counts in none of them (a refused
//     call costs no quota), so no quota is ever consumed by calls another
//     quota refused. With Redis this is one script, atomic across every
//     gateway, so together they admit exactly Count calls.
//   - The calls of the day and of the month are also counted when the
//     plan has no quota for them (usage figures: Registry.Usage). Such a
//     count decides nothing, so it never waits for Redis: it is counted
//     here and added to Redis once a second (Registry.Run).
//   - While Redis does not answer (or the gateway has none), quotas are
//     decided on this gateway's own counts, never with an error; counts
//     made meanwhile are added to Redis when it answers again.
package quota

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	// A gateway decides when a day starts in its group's time zone: it
	// must know the zones where the system has no tzdata (a scratch
	// container), or it would count in UTC without a word.
	_ "time/tzdata"

	"github.com/portico-gw/portico/internal/spec"
)

// Remote is a counter store every gateway shares (Redis).
// limitcount.Redis implements it; this package names only what it needs,
// as one plugin does not import another.
type Remote interface {
	// TakeAll counts one call in every key, atomically, when each key's
	// count is below its limit; otherwise it counts nothing. counts are
	// the keys' counts after the call when admitted, before it when not.
	// A new key expires after its ttl.
	TakeAll(ctx context.Context, keys []string, limits []int64, ttls []time.Duration) (counts []int64, admitted bool, err error)
	// AddAll adds n[i] to keys[i]; a new key expires after ttls[i].
	AddAll(ctx context.Context, keys []string, n []int64, ttls []time.Duration) error
	// Counts reads the keys' counts (0 for a missing key).
	Counts(ctx context.Context, keys []string) ([]int64, error)
	// Prefix is put in front of every key (tests share one Redis).
	Prefix() string
}

// Fallback reasons, the label of the gateway's fallback metric (the same
// words as limit-count's).
const (
	FallbackUnreachable   = "unreachable"
	FallbackNotConfigured = "not_configured"
)

// Options connect a Registry to the gateway.
type Options struct {
	Remote Remote // nil: every count is this gateway's own
	// OnFallback is called for every call decided on local counts although
	// Remote is set (Redis failing or resting after a failure); cheap.
	OnFallback func(reason string)
	// OnReject is called for every call a quota refused (metrics).
	OnReject func(group, service string)
	Logger   *slog.Logger
	// RetryAfter is how long a failing Remote is left alone (default 1 s):
	// an outage costs one failed call per second, not one per request.
	RetryAfter time.Duration
}

// Registry holds the counts of every subscription a gateway serves, kept
// across configuration reloads.
type Registry struct {
	mu   sync.Mutex
	subs map[subKey]*counters
	// opts are set once, before the first table is built (Use).
	opts      Options
	downUntil atomic.Int64 // unix nanos: the remote rests until then
	lastLog   atomic.Int64 // unix nanos of the last fallback log line
	now       func() time.Time
}

type subKey struct{ group, subscription string }

// NewRegistry returns a registry counting locally.
func NewRegistry() *Registry {
	return &Registry{subs: map[subKey]*counters{}, now: time.Now,
		opts: Options{Logger: slog.New(slog.DiscardHandler), RetryAfter: time.Second}}
}

// Use connects the registry; the gateway calls it once, before the first
// table is built.
func (r *Registry) Use(opts Options) {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r.mu.Lock()
	r.opts = opts
	r.mu.Unlock()
}

// SetClock replaces the registry's clock (tests); set it before use.
func (r *Registry) SetClock(now func() time.Time) { r.now = now }

// nPeriods is the number of quota periods, indexed as spec.QuotaPeriods.
const nPeriods = 5

const (
	pDay   = 3
	pMonth = 4
)

// periodOf is the index of a period name; -1 for an unknown one.
func periodOf(name string) int {
	for i, p := range spec.QuotaPeriods {
		if p == name {
			return i
		}
	}
	return -1
}

// counters are one subscription's counts in one group: for each period
// the current one and the one before, whose counts may wait to be added
// to Redis.
type counters struct {
	mu      sync.Mutex
	keyBase string // "<prefix>quota:<group>:<subscription>:"
	slots   [nPeriods][2]slot
}

// slot is the count of one period. n is what this gateway counted and
// Redis has not got (all of it without Redis): calls of usage-only
// periods, and calls decided locally while Redis did not answer.
type slot struct {
	start, end int64 // unix seconds
	n          int64
	key        string // its Redis key; "" without Redis
}

// counters finds (or makes) the counters of a subscription.
func (r *Registry) counters(group, subscription string) *counters {
	k := subKey{group, subscription}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.subs[k]
	if c == nil {
		c = &counters{}
		if r.opts.Remote != nil {
			c.keyBase = r.opts.Remote.Prefix() + "quota:" + group + ":" + subscription + ":"
		}
		r.subs[k] = c
	}
	return c
}

// lookup finds the counters of a subscription; nil when none were made.
func (r *Registry) lookup(group, subscription string) *counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.subs[subKey{group, subscription}]
}

// Retain forgets the counters of the subscriptions keep does not name
// (gone from the table), unless they hold counts Redis has not got yet.
func (r *Registry) Retain(keep func(group, subscription string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, c := range r.subs {
		if !keep(k.group, k.subscription) && (r.opts.Remote == nil || !c.pending()) {
			delete(r.subs, k)
		}
	}
}

func (c *counters) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.slots {
		if c.slots[p][0].n > 0 || c.slots[p][1].n > 0 {
			return true
		}
	}
	return false
}

// current is period p's slot starting at start (the caller holds c.mu).
// A new period moves the current one to the previous slot, whose counts
// Run still adds to Redis.
func (c *counters) current(p int, start, end int64) *slot {
	s := &c.slots[p][0]
	if s.start == start {
		return s
	}
	if start < s.start {
		// A request counted after one that opened the next period, though
		// it arrived before it: the previous slot when it holds that
		// period, else the current one. Opening its period again would
		// push the current counts out of both slots.
		if prev := &c.slots[p][1]; prev.start == start {
			return prev
		}
		return s
	}
	if s.n > 0 {
		c.slots[p][1] = *s
	}
	*s = slot{start: start, end: end}
	if c.keyBase != "" {
		s.key = c.keyBase + spec.QuotaPeriods[p] + ":" + strconv.FormatInt(start, 10)
	}
	return s
}

// at is this gateway's own count of period p starting at start.
func (c *counters) at(p int, start int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.slots[p] {
		if s.start == start {
			return s.n
		}
	}
	return 0
}

// bounds are the period p holding now in loc, as unix seconds.
func bounds(p int, now time.Time, loc *time.Location) (start, end int64) {
	s, e, _ := spec.QuotaPeriodBounds(spec.QuotaPeriods[p], now, loc)
	return s.Unix(), e.Unix()
}

// ttl is how long a key of a period ending at end lives from now: a while
// past its end, for gateways whose clocks run a little behind and for
// counts added to Redis after the period ended.
func ttl(now time.Time, end int64, p int) time.Duration {
	grace := time.Minute
	if p == 0 {
		grace = 5 * time.Second
	}
	return time.Unix(end, 0).Sub(now) + grace
}

// remote is the Remote when it may be called now; nil while it rests
// after a failure or when there is none.
func (r *Registry) remote(now time.Time) Remote {
	if r.opts.Remote == nil || now.UnixNano() < r.downUntil.Load() {
		return nil
	}
	return r.opts.Remote
}

// failed rests the remote after err and reports it.
func (r *Registry) failed(now time.Time, err error) {
	r.downUntil.Store(now.Add(r.opts.RetryAfter).UnixNano())
	last := r.lastLog.Load()
	if now.UnixNano()-last >= int64(10*time.Second) && r.lastLog.CompareAndSwap(last, now.UnixNano()) {
		r.opts.Logger.Warn("plan quotas: Redis not used; counting in this gateway until it answers", "err", err)
	}
}

// fellBack reports a call decided on local counts with Redis configured.
func (r *Registry) fellBack() {
	if r.opts.Remote != nil && r.opts.OnFallback != nil {
		r.opts.OnFallback(FallbackUnreachable)
	}
}

// flushBatch bounds the keys of one AddAll call.
const flushBatch = 256

// flushEvery is how often Run adds local counts to Redis.
const flushEvery = time.Second

// Run adds the local counts to Redis every second until ctx ends, then
// once more. Without a Remote it returns at once: local counts are all
// there is.
func (r *Registry) Run(ctx context.Context) {
	if r.opts.Remote == nil {
		return
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = r.Flush(last)
			cancel()
			return
		case <-tick.C:
			_ = r.Flush(ctx)
		}
	}
}

// added is one count sent to Redis.
type added struct {
	c     *counters
	p     int
	start int64
	n     int64
}

// Flush adds the counts Redis has not got. A count whose key would have
// expired already is dropped. On an error the counts stay for the next
// flush.
func (r *Registry) Flush(ctx context.Context) error {
	now := r.now()
	rem := r.remote(now)
	if rem == nil {
		return nil
	}
	r.mu.Lock()
	all := make([]*counters, 0, len(r.subs))
	for _, c := range r.subs {
		all = append(all, c)
	}
	r.mu.Unlock()
	var batch []added
	var keys []string
	var ns []int64
	var ttls []time.Duration
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := rem.AddAll(ctx, keys, ns, ttls); err != nil {
			r.failed(now, err)
			return err
		}
		for _, a := range batch {
			a.c.mu.Lock()
			for i := range a.c.slots[a.p] {
				if s := &a.c.slots[a.p][i]; s.start == a.start {
					s.n -= a.n
				}
			}
			a.c.mu.Unlock()
		}
		batch, keys, ns, ttls = batch[:0], keys[:0], ns[:0], ttls[:0]
		return nil
	}
	for _, c := range all {
		c.mu.Lock()
		for p := range c.slots {
			for i := range c.slots[p] {
				s := &c.slots[p][i]
				if s.n <= 0 || s.key == "" {
					continue
				}
				d := ttl(now, s.end, p)
				if d <= 0 {
					s.n = 0 // its key is gone: nobody reads it any more
					continue
				}
				batch = append(batch, added{c, p, s.start, s.n})
				keys, ns, ttls = append(keys, s.key), append(ns, s.n), append(ttls, d)
			}
		}
		c.mu.Unlock()
		if len(batch) >= flushBatch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return send()
}
