package basicauth

import (
	"crypto/sha256"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
)

// A bcrypt comparison costs tens of milliseconds of CPU on purpose, and a
// wrong password is exactly what an attacker can send as often as he
// likes. So that wrong passwords cannot take the gateway's CPU from every
// other route, the guard:
//   - remembers verdicts by credential and password hash, wrong ones too,
//     so a repeated password costs a SHA-256, not a bcrypt;
//   - runs at most one bcrypt per CPU at a time, with a short queue; past
//     it the request is answered 503 at once;
//   - counts failures per client address and per username in a window and,
//     past a limit, answers 429 before any bcrypt.
// A password already known to be right is admitted before the counts are
// looked at: a flood of guesses does not lock its owner out.

// Limits of the guard.
const (
	maxVerdicts    = 1 << 14          // remembered verdicts
	verdictTTL     = 10 * time.Minute // how long a verdict is trusted
	maxFailures    = 10               // per address, and per username, per window
	failureWindow  = time.Minute
	maxFailureKeys = 1 << 16 // addresses and usernames counted per window
)

// guard is shared by every basic-auth filter of the process, across
// configuration reloads (a reload must not reset the failure counts).
type guard struct {
	slots   chan struct{} // one per bcrypt that may run
	queue   int64         // how many may wait for a slot
	waiting atomic.Int64

	mu       sync.RWMutex
	verdicts map[verdictKey]verdict
	max      int

	fmu      sync.Mutex
	winStart int64 // unix nanos of the current failure window
	byAddr   map[netip.Addr]int
	// byUser points to each name's count, so that a failure of a known
	// name never assigns to the map: an assignment stores the key given,
	// which may be a view of the request's buffer that the next request
	// overwrites (the count would move to another name).
	byUser map[string]*int
}

// verdictKey is a credential, by its id and stored password hash (both
// empty for an unknown username), and the SHA-256 of the password tried
// (with the username for an unknown one). Keyed by id and hash rather than
// by the compiled credential, a verdict survives configuration reloads (a
// publish does not make every client pay a bcrypt again, nor lose its
// known-good password to the failure counts), while a rotated password
// never meets its old verdicts.
type verdictKey struct {
	id, hash string
	sum      [sha256.Size]byte
}

func keyOf(cr *consumer.Credential, sum [sha256.Size]byte) verdictKey {
	return verdictKey{id: cr.ID, hash: cr.PasswordHash(), sum: sum}
}

type verdict struct {
	ok    bool
	until int64 // unix nanos
}

var shared = newGuard(runtime.GOMAXPROCS(0), 4*int64(runtime.GOMAXPROCS(0)), maxVerdicts)

func newGuard(slots int, queue int64, maxVerdicts int) *guard {
	return &guard{slots: make(chan struct{}, max(slots, 1)), queue: queue,
		verdicts: map[verdictKey]verdict{}, max: maxVerdicts,
		byAddr: map[netip.Addr]int{}, byUser: map[string]*int{}}
}

// known returns the remembered verdict of key; found is false when there
// is none (or it is too old).
func (g *guard) known(now int64, key verdictKey) (ok, found bool) {
	g.mu.RLock()
	v, found := g.verdicts[key]
	g.mu.RUnlock()
	if !found || v.until <= now {
		return false, false
	}
	return v.ok, true
}

func (g *guard) remember(now int64, key verdictKey, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.verdicts) >= g.max {
		for k, v := range g.verdicts {
			if v.until <= now || len(g.verdicts) >= g.max-g.max/8 {
				delete(g.verdicts, k)
			}
		}
	}
	g.verdicts[key] = verdict{ok: ok, until: now + int64(verdictTTL)}
}

// acquire takes a bcrypt slot, waiting in a bounded queue; false when the
// queue is full.
func (g *guard) acquire() bool {
	select {
	case g.slots <- struct{}{}:
		return true
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return false
	}
	g.slots <- struct{}{}
	g.waiting.Add(-1)
	return true
}

func (g *guard) release() { <-g.slots }

// window moves the failure counts to the window of now; g.fmu is held.
func (g *guard) window(now int64) {
	start := now - now%int64(failureWindow)
	if start != g.winStart {
		g.winStart = start
		clear(g.byAddr)
		clear(g.byUser)
	}
}

// blocked reports whether addr or user failed too often in this window,
// and how many seconds remain of it.
func (g *guard) blocked(now int64, addr netip.Addr, user string) (bool, int64) {
	g.fmu.Lock()
	defer g.fmu.Unlock()
	g.window(now)
	if n := g.byUser[user]; g.byAddr[addr] < maxFailures && (n == nil || *n < maxFailures) {
		return false, 0
	}
	left := g.winStart + int64(failureWindow) - now
	return true, max((left+int64(time.Second)-1)/int64(time.Second), 1)
}

// failed counts one failure of addr and user. Past maxFailureKeys new
// keys are not counted: the slots still bound the CPU.
func (g *guard) failed(now int64, addr netip.Addr, user string) {
	g.fmu.Lock()
	defer g.fmu.Unlock()
	g.window(now)
	if n, ok := g.byAddr[addr]; ok || len(g.byAddr) < maxFailureKeys {
		g.byAddr[addr] = n + 1
	}
	if n, ok := g.byUser[user]; ok {
		*n++
	} else if len(g.byUser) < maxFailureKeys {
		one := 1
		g.byUser[strings.Clone(user)] = &one // the engine's string is not ours to keep
	}
}
