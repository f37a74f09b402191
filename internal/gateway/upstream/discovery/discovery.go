// Package discovery finds the nodes of an upstream in a service registry
// (DNS, Consul, Kubernetes, Nacos, Eureka) and follows them as they change.
//
// This package holds the contract every registry client implements
// (Resolver), the loop that keeps asking one (Follow), and what the HTTP
// clients share (http.go). Each registry has its own sub-package written
// against the registry's documented API; package registries builds the
// Resolver a Config names. Imports point one way: registries → the
// registry packages → discovery → spec, so this package cannot build a
// Resolver itself without an import cycle, and nothing registers itself at
// init: the list of registries is one switch in registries.New.
package discovery

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Target is one service to resolve in a registry.
type Target struct {
	// Namespace is the Kubernetes namespace, Nacos namespace id or Consul
	// namespace (Enterprise "ns" parameter); empty: the Config's, else the
	// registry's default.
	Namespace string
	// ServiceName is, for DNS, "name[:port]" or an SRV name
	// "_svc._proto.name"; for Consul, Nacos and Eureka the service or
	// application name; for Kubernetes "service[:portName]".
	ServiceName string
}

// Config is a registry connection as the gateway group defines it.
type Config struct {
	Type string // dns | consul | kubernetes | nacos | eureka
	// Address is, for the HTTP registries, the base URL
	// "http(s)://host:port[/base]"; for dns the "host:port" of a DNS server
	// (empty: the first nameserver of /etc/resolv.conf).
	Address string
	// Namespace is the default namespace of a Target that has none
	// (Kubernetes namespace, Nacos namespace id, Consul ns).
	Namespace string
	// Group is the Nacos group (default DEFAULT_GROUP); unused by the others.
	Group string
	// Username and Password log in to Nacos (/nacos/v1/auth/login, then the
	// accessToken parameter) and to Eureka (HTTP basic).
	Username, Password string
	// Token is the Consul ACL token (X-Consul-Token) or the Kubernetes
	// bearer token (a service account's).
	Token string
	// CA is the PEM of the CAs to trust for an https Address (empty: the
	// system's roots).
	CA string
}

// Result is one answer of a registry.
type Result struct {
	// Nodes are sorted by host then port, one per host and port (SortNodes);
	// weights as the registry says (default spec.DefaultNodeWeight).
	Nodes []spec.Node
	// Index is an opaque version for the next blocking call; "" when the
	// registry has none (Follow then polls).
	Index string
	// TTL is how long the answer may be kept before asking again (a DNS
	// TTL); 0: the poll interval.
	TTL time.Duration
}

// Resolver asks one registry. Resolve returns the service's current nodes.
// With index from a previous Result, a registry that supports blocking
// queries (Consul's index and wait, a Kubernetes watch from a
// resourceVersion) waits up to wait for a change before answering; others
// answer at once. A Resolver is safe for concurrent use.
type Resolver interface {
	Resolve(ctx context.Context, t Target, index string, wait time.Duration) (Result, error)
}

// Status is what Follow reports of a registry after each attempt.
type Status struct {
	Healthy  bool
	Error    string    // the last error, "" when healthy
	LastSync time.Time // when nodes were last received; zero: never
}

// Timings of Follow.
const (
	// DefaultPoll is the interval between two questions to a registry
	// without blocking queries, when Follow is given none.
	DefaultPoll = 5 * time.Second
	// BlockingWait is how long Follow asks a blocking registry to hold a
	// question open. The HTTP clients' timeouts are set just above it, and
	// the resolvers cut a longer wait down to it.
	BlockingWait = 30 * time.Second
	// A DNS TTL is kept within these bounds: a TTL of 0 must not turn
	// Follow into a busy loop, nor a TTL of a day hide a change for a day.
	minTTL = time.Second
	maxTTL = 5 * time.Minute
	// Errors back off exponentially within these bounds so that a registry
	// that is down is not hammered by every gateway at once.
	backoffMin = time.Second
	backoffMax = 30 * time.Second
	// blockingGap is the least time between the starts of two blocking
	// calls. A registry that answers a blocking query at once every time (a
	// Consul index stuck at 0, a watch the API server closes immediately)
	// would otherwise be asked in a busy loop; a real change still comes
	// through at most this late.
	blockingGap = 250 * time.Millisecond
)

// Follow resolves t until ctx ends. It calls update with the node list
// whenever it differs from the last one passed (the first answer is always
// passed): never with an empty list caused by an error — on errors the last
// known nodes are kept — but an empty list the registry really answers is
// passed on. It calls status after every attempt. update and status may be
// nil; they are called from Follow's goroutine, one at a time.
//
// Between answers of non-blocking registries Follow waits max(TTL, poll),
// the TTL bounded to [1 s, 5 min] (poll ≤ 0: DefaultPoll). Blocking
// registries are called again at once with the new index and a wait of
// BlockingWait (but no more than four times a second). Errors back off
// exponentially from 1 s to 30 s with jitter, and the index is reset after
// an error. Every wait ends with ctx; Follow returns when ctx is done.
func Follow(ctx context.Context, r Resolver, t Target, poll time.Duration, update func([]spec.Node), status func(Status)) {
	follower{backoffMin: backoffMin, backoffMax: backoffMax, blockingGap: blockingGap}.run(ctx, r, t, poll, update, status)
}

// follower holds Follow's timings, so that its tests can shorten them.
type follower struct {
	backoffMin, backoffMax, blockingGap time.Duration
}

func (f follower) run(ctx context.Context, r Resolver, t Target, poll time.Duration, update func([]spec.Node), status func(Status)) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	if update == nil {
		update = func([]spec.Node) {}
	}
	if status == nil {
		status = func(Status) {}
	}
	var (
		last     []spec.Node
		sent     bool
		index    string
		failures int
		lastSync time.Time
	)
	for ctx.Err() == nil {
		started := time.Now()
		res, err := r.Resolve(ctx, t, index, BlockingWait)
		if ctx.Err() != nil {
			// The error (if any) is the cancellation itself, not the
			// registry's health.
			return
		}
		if err != nil {
			// A blocking call after an error starts over from a full
			// answer: the index may belong to a registry that restarted.
			index = ""
			status(Status{Error: err.Error(), LastSync: lastSync})
			wait := f.backoff(failures)
			failures++
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		failures = 0
		lastSync = time.Now()
		if !sent || !slices.Equal(res.Nodes, last) {
			last, sent = slices.Clone(res.Nodes), true
			// A copy, so that the receiver may keep or change it.
			update(append([]spec.Node{}, res.Nodes...))
		}
		status(Status{Healthy: true, LastSync: lastSync})
		var wait time.Duration
		if index = res.Index; index != "" {
			wait = f.blockingGap - time.Since(started)
		} else {
			wait = pollWait(res.TTL, poll)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// pollWait is the time between two answers of a non-blocking registry:
// max(TTL, poll), the TTL bounded to [minTTL, maxTTL]; no TTL, the poll.
func pollWait(ttl, poll time.Duration) time.Duration {
	if ttl <= 0 {
		return poll
	}
	return max(min(max(ttl, minTTL), maxTTL), poll)
}

// backoff is the wait after the (failures+1)th error in a row: doubling
// from backoffMin up to backoffMax, drawn from [d/2, d] ("equal jitter")
// so that gateways that lost a registry together do not retry together.
func (f follower) backoff(failures int) time.Duration {
	d := f.backoffMax
	if failures < 30 { // beyond, the shift would overflow
		d = min(f.backoffMin<<failures, f.backoffMax)
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx ends, and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
