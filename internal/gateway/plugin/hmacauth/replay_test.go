package hmacauth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// fakeRemote is a Redis stand-in shared by "gateways"; fail makes every
// call an error, as an unreachable Redis.
type fakeRemote struct {
	mu    sync.Mutex
	keys  map[string]time.Duration
	calls int
	fail  bool
}

func (r *fakeRemote) SetNX(_ context.Context, key string, ttl time.Duration) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return false, errors.New("connection refused")
	}
	if _, ok := r.keys[key]; ok {
		return false, nil
	}
	r.keys[key] = ttl
	return true, nil
}

func (r *fakeRemote) Prefix() string { return "test:" }

func status(f *Filter, r req) int {
	b, _, stop := r.run(f, "p1")
	if !stop {
		return 200
	}
	return b.ErrorStatus
}

// TestReplayRefused: a signature is accepted once; the same request again
// within the clock skew is refused, while a new signature (a later Date)
// still passes.
func TestReplayRefused(t *testing.T) {
	now := time.Now()
	f, _ := New(Config{}, index())
	f.seen = newReplayGuard(64)
	f.now = func() time.Time { return now }
	first := seedRequest(now, "")
	if st := status(f, first); st != 200 {
		t.Fatalf("first request: %d", st)
	}
	if st := status(f, first); st != 401 {
		t.Errorf("the same signed request again: %d, want 401", st)
	}
	// The same signature in its unpadded form is the same signature.
	unpadded := seedRequest(now, "")
	unpadded.headers["X-HMAC-SIGNATURE"] = first.headers["X-HMAC-SIGNATURE"][:len(first.headers["X-HMAC-SIGNATURE"])-1]
	if st := status(f, unpadded); st != 401 {
		t.Errorf("the signature without its padding: %d, want 401", st)
	}
	if st := status(f, seedRequest(now.Add(-time.Second), "")); st != 200 {
		t.Errorf("a newly signed request: %d, want 200", st)
	}
	// Remembered until the Date leaves the window, then refused by the
	// Date check anyway.
	key := replayKey(seedKey, mustDecode(t, first.headers["X-HMAC-SIGNATURE"]))
	exp := f.seen.m[key]
	if d := time.Duration(exp - now.UnixNano()); d < DefaultClockSkew*time.Second || d > (DefaultClockSkew+2)*time.Second {
		t.Errorf("remembered for %v, want about the clock skew", d)
	}
}

// TestReplayWithChangedBody: a captured POST signature is not accepted
// again with another body, and a forged body does not use the signature up.
func TestReplayWithChangedBody(t *testing.T) {
	f, _ := New(Config{}, index())
	f.seen = newReplayGuard(64)
	send := func(h map[string]string, body string) int {
		b := &bodyBacking{Backing: plugintest.New("127.0.0.1"), body: []byte(body)}
		b.ReqMethod, b.ReqPath, b.Length = "POST", "/api/orders", int64(len(body))
		for k, v := range h {
			b.ReqHeader.Set(k, v)
		}
		ex := &plugin.Exchange{}
		ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, nil)
		if !f.OnRequest(ex) {
			return 200
		}
		return b.ErrorStatus
	}
	const order = `{"item":"umbrella"}`
	h := signedPost(digestOf(order), "digest")
	if st := send(h, `{"item":"anvil!!!"}`); st != 401 {
		t.Errorf("a forged body first: %d, want 401", st)
	}
	if st := send(h, order); st != 200 {
		t.Errorf("the genuine request after a forgery: %d, want 200", st)
	}
	if st := send(h, `{"item":"anvil!!!"}`); st != 401 {
		t.Errorf("a changed body on a used signature: %d, want 401", st)
	}
	if st := send(h, order); st != 401 {
		t.Errorf("the genuine request again: %d, want 401", st)
	}
	// A signature without a digest does not cover a body at all.
	if st := send(signedPost("", ""), order); st != 401 {
		t.Errorf("a body under a signature without a digest: %d, want 401", st)
	}
}

// TestReplayAcrossGateways: with a shared remote, a signature accepted by
// one gateway is refused by another; when the remote fails, each gateway
// still refuses what it saw itself and never answers 500.
func TestReplayAcrossGateways(t *testing.T) {
	remote := &fakeRemote{keys: map[string]time.Duration{}}
	gateway := func() *Filter {
		f, _ := New(Config{}, index())
		f.seen = newReplayGuard(64)
		f.seen.remote.Store(&remoteState{r: remote, log: slog.New(slog.DiscardHandler)})
		return f
	}
	a, b := gateway(), gateway()
	now := time.Now()
	r := seedRequest(now, "")
	if st := status(a, r); st != 200 {
		t.Fatalf("gateway a: %d", st)
	}
	if st := status(b, r); st != 401 {
		t.Errorf("the same request at gateway b: %d, want 401", st)
	}
	for k, ttl := range remote.keys {
		if len(k) != len("test:hmac:")+64 || ttl < DefaultClockSkew*time.Second {
			t.Errorf("remote key %q ttl %v", k, ttl)
		}
	}

	remote.mu.Lock()
	remote.fail = true
	remote.mu.Unlock()
	r2 := seedRequest(now.Add(-2*time.Second), "")
	if st := status(a, r2); st != 200 {
		t.Errorf("with Redis down, a new request: %d, want 200", st)
	}
	if st := status(a, r2); st != 401 {
		t.Errorf("with Redis down, a replay at the same gateway: %d, want 401", st)
	}
	calls := remote.calls
	status(a, seedRequest(now.Add(-3*time.Second), ""))
	if remote.calls != calls {
		t.Errorf("a failed remote was called again at once (%d calls, was %d)", remote.calls, calls)
	}
}

func TestReplayGuardBounded(t *testing.T) {
	g := newReplayGuard(16)
	now := time.Now()
	for i := range 100 {
		k := replayKey("c1", []byte{byte(i)})
		if !g.firstUse(now, k, time.Minute) {
			t.Fatalf("entry %d seen before", i)
		}
		if len(g.m) > 16 {
			t.Fatalf("%d entries, bound 16", len(g.m))
		}
	}
	// Expired entries do not count as seen, and are swept.
	later := now.Add(2 * DefaultClockSkew * time.Second)
	if !g.firstUse(later, replayKey("c1", []byte{99}), time.Minute) {
		t.Errorf("an expired entry still refuses")
	}
	if len(g.m) != 1 {
		t.Errorf("%d entries after everything expired, want 1", len(g.m))
	}
}

func mustDecode(t *testing.T, sig string) []byte {
	t.Helper()
	var buf [64]byte
	n, ok := decodeSignature(buf[:], sig)
	if !ok {
		t.Fatalf("decode %q", sig)
	}
	return buf[:n]
}
