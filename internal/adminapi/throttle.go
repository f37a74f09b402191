package adminapi

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// lockPolicy turns consecutive failed logins into lockouts. After
// threshold failures, each within window of the previous one (or of the
// end of the previous lockout), the key is locked for base; every further
// failure straight after a lockout locks again for twice as long, up to
// max. This is the growing delay, kept as a deadline instead of a sleep so
// that no goroutine waits on an attacker's behalf. Quiet for window, the
// key starts afresh.
type lockPolicy struct {
	threshold int
	window    time.Duration
	base, max time.Duration
}

var (
	// userPolicy guards one account against guessing from anywhere.
	userPolicy = lockPolicy{threshold: 5, window: 15 * time.Minute, base: time.Minute, max: time.Hour}
	// clientPolicy guards against one address trying many accounts; it is
	// higher because several people may share an address.
	clientPolicy = lockPolicy{threshold: 20, window: 15 * time.Minute, base: time.Minute, max: time.Hour}
)

// fail records a failure at now in s and answers whether it started a
// lockout, and for how long.
func (p lockPolicy) fail(s *store.LoginState, now time.Time) (time.Duration, bool) {
	ref := s.LastFailure
	if s.LockedUntil.After(ref) {
		ref = s.LockedUntil
	}
	if now.Sub(ref) > p.window {
		s.Failures, s.Lockouts = 0, 0
	}
	s.Failures++
	s.LastFailure = now
	if s.Failures < p.threshold {
		return 0, false
	}
	d := p.base
	for i := 0; i < s.Lockouts && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	s.Lockouts++
	s.LockedUntil = now.Add(d)
	return d, true
}

// stale reports whether s no longer matters at now: prunable.
func (p lockPolicy) stale(s *store.LoginState, now time.Time) bool {
	return now.Sub(s.LastFailure) > p.window && now.Sub(s.LockedUntil) > p.window
}

// maxClients bounds the client addresses remembered; beyond it new
// addresses are not tracked until old ones go quiet (the per-user lockout
// still holds), so that a spray from many addresses cannot grow memory.
const maxClients = 100_000

// clientThrottle keeps the failed logins per client address in memory: an
// address's record matters for at most an hour and a restart costs an
// attacker nothing the per-user records (in the store) do not still block.
type clientThrottle struct {
	mu        sync.Mutex
	m         map[string]*store.LoginState
	lastPrune time.Time
}

func newClientThrottle() *clientThrottle {
	return &clientThrottle{m: map[string]*store.LoginState{}}
}

// lockedUntil answers the end of addr's lockout, zero when none.
func (t *clientThrottle) lockedUntil(addr string, now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[addr]; ok && s.LockedUntil.After(now) {
		return s.LockedUntil
	}
	return time.Time{}
}

// fail records a failure of addr, as lockPolicy.fail.
func (t *clientThrottle) fail(addr string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastPrune) > time.Minute {
		t.lastPrune = now
		for k, s := range t.m {
			if clientPolicy.stale(s, now) {
				delete(t.m, k)
			}
		}
	}
	s, ok := t.m[addr]
	if !ok {
		if len(t.m) >= maxClients {
			return 0, false
		}
		s = &store.LoginState{Username: addr}
		t.m[addr] = s
	}
	return clientPolicy.fail(s, now)
}

// clientAddr is the TCP peer's address. X-Forwarded-For is deliberately
// not read: anyone can send it, and the admin API is not meant to sit
// behind a proxy that would make every client one address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// hashSlots bounds the bcrypt comparisons of logins running at once: each
// costs tens of milliseconds of one core, and a flood of logins must not
// starve the rest of the control plane.
type hashSlots chan struct{}

func newHashSlots() hashSlots { return make(hashSlots, max(1, runtime.NumCPU()/2)) }

// do runs fn in a slot, waiting for one as long as ctx lives.
func (h hashSlots) do(ctx context.Context, fn func()) error {
	select {
	case h <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h }()
	fn()
	return nil
}

// rateWindow allows each key at most limit events in any period: a
// sliding window of the last limit event times per key.
type rateWindow struct {
	limit  int
	period time.Duration
	mu     sync.Mutex
	m      map[string][]time.Time
}

func newRateWindow(limit int, period time.Duration) *rateWindow {
	return &rateWindow{limit: limit, period: period, m: map[string][]time.Time{}}
}

// allow records an event of key at now when the window has room, and
// otherwise answers how long until it has.
func (w *rateWindow) allow(key string, now time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.m[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= w.period {
		ts = ts[1:]
	}
	if len(ts) >= w.limit {
		w.m[key] = ts
		return ts[0].Add(w.period).Sub(now), false
	}
	w.m[key] = append(ts, now)
	if len(w.m) > maxClients { // keys are user ids: a handful; bound anyway
		for k, v := range w.m {
			if len(v) == 0 || now.Sub(v[len(v)-1]) >= w.period {
				delete(w.m, k)
			}
		}
	}
	return 0, true
}
