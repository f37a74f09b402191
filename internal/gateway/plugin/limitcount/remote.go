package limitcount

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"
)

// Remote is a counter store shared by every gateway (Redis): policy
// "redis" counts there so a limit holds cluster-wide.
type Remote interface {
	// Incr adds one to key, which expires after ttl when it is new, and
	// returns the key's count.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Prefix is put in front of every key (tests share one Redis).
	Prefix() string
}

// Fallback reasons, the label of the gateway's fallback metric.
const (
	// FallbackUnreachable: the remote failed or is in its retry pause.
	FallbackUnreachable = "unreachable"
	// FallbackNotConfigured: policy redis on a gateway started without
	// --redis.
	FallbackNotConfigured = "not_configured"
)

// RemoteOptions connect a Registry to a Remote.
type RemoteOptions struct {
	Remote Remote // nil: policy redis counts locally and reports it
	// OnFallback is called for every request counted locally although its
	// policy is redis (metrics); it must be cheap.
	OnFallback func(reason string)
	Logger     *slog.Logger
	// RetryAfter is how long the remote is left alone after a failure
	// (default 1 s), so an outage costs one failed call per second, not
	// one per request. The Remote bounds each call itself.
	RetryAfter time.Duration
}

func (o RemoteOptions) prefixOr() string {
	if o.Remote == nil {
		return ""
	}
	return o.Remote.Prefix()
}

// remoteState is the Registry's view of the remote, shared by every
// filter with policy redis.
type remoteState struct {
	opts RemoteOptions
	// downUntil is when the remote may be tried again (unix nanos).
	downUntil atomic.Int64
	// lastLog rate-limits the fallback log line (unix nanos); skipped
	// counts fallbacks since it.
	lastLog atomic.Int64
	skipped atomic.Int64
}

// logEvery is the least time between two fallback log lines.
const logEvery = 10 * time.Second

// UseRemote makes the registry's redis-policy filters count in opts.Remote.
// The gateway calls it once, before the first Build.
func (r *Registry) UseRemote(opts RemoteOptions) {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	rs := &remoteState{opts: opts}
	r.mu.Lock()
	r.remote = rs
	r.mu.Unlock()
}

func (r *Registry) remoteState() *remoteState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remote == nil {
		// Not configured: redis filters fall back to local counting.
		r.remote = &remoteState{opts: RemoteOptions{Logger: slog.New(slog.DiscardHandler)}}
	}
	return r.remote
}

// incr counts one hit of key remotely; ok is false when the caller must
// count locally (the remote is missing, failing or resting after a failure).
func (rs *remoteState) incr(now time.Time, key string, ttl time.Duration) (n int64, ok bool) {
	if rs.opts.Remote == nil {
		rs.fellBack(now, FallbackNotConfigured, nil)
		return 0, false
	}
	if now.UnixNano() < rs.downUntil.Load() {
		rs.fellBack(now, FallbackUnreachable, nil)
		return 0, false
	}
	// No per-request context: the Remote's own timeouts bound the call,
	// and a context with a deadline costs a timer per request.
	n, err := rs.opts.Remote.Incr(context.Background(), key, ttl)
	if err != nil {
		rs.downUntil.Store(now.Add(rs.opts.RetryAfter).UnixNano())
		rs.fellBack(now, FallbackUnreachable, err)
		return 0, false
	}
	return n, true
}

// fellBack reports a locally counted request: always to the metric, to the
// log at most once per logEvery.
func (rs *remoteState) fellBack(now time.Time, reason string, err error) {
	if rs.opts.OnFallback != nil {
		rs.opts.OnFallback(reason)
	}
	last := rs.lastLog.Load()
	if now.UnixNano()-last < int64(logEvery) || !rs.lastLog.CompareAndSwap(last, now.UnixNano()) {
		rs.skipped.Add(1)
		return
	}
	skipped := rs.skipped.Swap(0)
	args := []any{"reason", reason, "fallbacks_since_last_log", skipped}
	if err != nil {
		args = append(args, "err", err)
	}
	rs.opts.Logger.Warn("limit-count: Redis not used; counting locally in this gateway", args...)
}

// appendKey appends the remote key of one counted value to dst: the
// filter's base (names, limit, window), the window's index and the value.
func appendKey(dst []byte, base string, windowIndex int64, value []byte) []byte {
	dst = append(dst, base...)
	dst = strconv.AppendInt(dst, windowIndex, 10)
	dst = append(dst, ':')
	return append(dst, value...)
}
