package hmacauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A signature proves who signed a request, not that the request is new:
// without this, a captured request could be sent again, unchanged, until
// its Date leaves the clock-skew window. Every accepted signature is
// remembered (by access key and signature) until then, and a second
// request carrying it is refused. The memory is this process's, shared by
// every route and kept across configuration reloads, and also Redis's when
// the gateway has one, so a signature accepted by one gateway is refused
// by all.

// Remote remembers signatures for every gateway (Redis).
type Remote interface {
	// SetNX stores key with an expiry of ttl unless it exists; it reports
	// whether it stored it (false: the key was already there).
	SetNX(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Prefix is put in front of every key.
	Prefix() string
}

// retryRemoteAfter is how long a failing remote is left alone: an outage
// costs one failed call per second, not one per request.
const retryRemoteAfter = time.Second

// logFallbackEvery is the least time between two log lines about it.
const logFallbackEvery = 10 * time.Second

type remoteState struct {
	r         Remote
	log       *slog.Logger
	downUntil atomic.Int64 // unix nanos
	lastLog   atomic.Int64 // unix nanos
}

// UseRemote shares the memory of accepted signatures through r (nil: this
// process only). The gateway calls it once at start, when it has Redis.
func UseRemote(r Remote, log *slog.Logger) {
	if r == nil {
		seen.remote.Store(nil)
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	seen.remote.Store(&remoteState{r: r, log: log})
}

// maxSeen bounds the local memory (about 100 bytes an entry). Past it,
// expired entries are dropped first, then arbitrary ones: a signature
// dropped early could be replayed, but only once more and only when more
// than maxSeen signed requests arrived within the clock skew.
const maxSeen = 1 << 18

// seen is the process's memory of accepted signatures.
var seen = newReplayGuard(maxSeen)

type replayGuard struct {
	max    int
	mu     sync.Mutex
	m      map[[sha256.Size]byte]int64 // expiry, unix nanos
	sweep  int64                       // next sweep of expired entries, unix nanos
	remote atomic.Pointer[remoteState]
}

func newReplayGuard(max int) *replayGuard {
	return &replayGuard{max: max, m: map[[sha256.Size]byte]int64{}}
}

// replayKey names one signature of one credential, by its access key: the
// same on every gateway, whichever control plane's store it came from (a
// rotation's two secrets share it, but never a signature).
func replayKey(accessKey string, sig []byte) [sha256.Size]byte {
	var buf [256]byte // a 128-byte key and a SHA-512 signature fit: no allocation
	b := append(append(append(buf[:0], accessKey...), 0), sig...)
	return sha256.Sum256(b)
}

// firstUse records the signature and reports whether it is new: false
// means it was accepted before and this request is a replay. ttl is how
// long the signature stays acceptable. A remote that fails is skipped
// (the local memory still answers), never an error for the client.
func (g *replayGuard) firstUse(now time.Time, key [sha256.Size]byte, ttl time.Duration) bool {
	if g == nil { // benchmarks of the signature check alone
		return true
	}
	if !g.local(now, key, ttl) {
		return false
	}
	rs := g.remote.Load()
	if rs == nil || now.UnixNano() < rs.downUntil.Load() {
		return true
	}
	var buf [96]byte
	k := append(append(buf[:0], rs.r.Prefix()...), "hmac:"...)
	k = hex.AppendEncode(k, key[:])
	stored, err := rs.r.SetNX(context.Background(), string(k), ttl)
	if err != nil {
		rs.downUntil.Store(now.Add(retryRemoteAfter).UnixNano())
		if last := rs.lastLog.Load(); now.UnixNano()-last >= int64(logFallbackEvery) && rs.lastLog.CompareAndSwap(last, now.UnixNano()) {
			rs.log.Warn("hmac-auth: Redis not used; replays are checked in this gateway only", "err", err)
		}
		return true
	}
	return stored
}

// local records key in this process's memory; false when it was there.
func (g *replayGuard) local(now time.Time, key [sha256.Size]byte, ttl time.Duration) bool {
	n := now.UnixNano()
	g.mu.Lock()
	defer g.mu.Unlock()
	if exp, ok := g.m[key]; ok && exp > n {
		return false
	}
	if len(g.m) >= g.max || n >= g.sweep {
		g.shrink(n)
	}
	g.m[key] = n + int64(ttl)
	return true
}

// shrink drops expired entries and, when that is not enough, arbitrary
// ones until an eighth of the room is free.
func (g *replayGuard) shrink(n int64) {
	g.sweep = n + int64(DefaultClockSkew*time.Second)
	for k, exp := range g.m {
		if exp <= n {
			delete(g.m, k)
		}
	}
	for k := range g.m {
		if len(g.m) < g.max-g.max/8 {
			break
		}
		delete(g.m, k)
	}
}
