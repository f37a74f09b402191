package basicauth

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

const right = "pa:ss word"

func from(f *Filter, addr, auth string) *plugintest.Backing {
	b := plugintest.New(addr)
	b.ReqHeader.Set("Authorization", auth)
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, nil)
	if !f.OnRequest(ex) {
		b.ErrorStatus = 200
	}
	return b
}

// occupy takes every bcrypt slot and leaves no room to wait: any request
// that needs a bcrypt is then answered 503 at once.
func occupy(g *guard) func() {
	for range cap(g.slots) {
		g.slots <- struct{}{}
	}
	q := g.queue
	g.queue = 0
	return func() {
		g.queue = q
		for range cap(g.slots) {
			<-g.slots
		}
	}
}

// TestVerdictsRemembered: a wrong password, once checked, is refused again
// without a bcrypt — so while every bcrypt slot is taken it is still
// answered 401, where a new password waits for nothing and gets 503.
func TestVerdictsRemembered(t *testing.T) {
	f := newFilter(t)
	for _, auth := range []string{basic("alice", "wrong-1"), basic("nobody", "wrong-1"), basic("alice", right)} {
		from(f, "192.0.2.1", auth)
	}
	free := occupy(f.g)
	defer free()
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"known wrong password", basic("alice", "wrong-1"), 401},
		{"known unknown user", basic("nobody", "wrong-1"), 401},
		{"known right password", basic("alice", right), 200},
		{"new password", basic("alice", "wrong-2"), 503},
		{"new unknown user", basic("nobody-else", "wrong-1"), 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := from(f, "192.0.2.1", tc.auth)
			if b.ErrorStatus != tc.status {
				t.Fatalf("status %d, want %d", b.ErrorStatus, tc.status)
			}
			if tc.status == 503 && b.RespHeader.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		})
	}
}

// TestConcurrencyBounded: no more bcrypts run at once than there are
// slots, and no more requests wait than the queue holds.
func TestConcurrencyBounded(t *testing.T) {
	g := newGuard(2, 1, 64)
	if !g.acquire() || !g.acquire() {
		t.Fatal("free slots refused")
	}
	got := make(chan bool)
	go func() { got <- g.acquire() }() // waits in the queue
	for g.waiting.Load() != 1 {
		runtime.Gosched()
	}
	if g.acquire() {
		t.Fatal("a fourth request got past two slots and a queue of one")
	}
	g.release()
	if !<-got {
		t.Fatal("the queued request never got its slot")
	}
	if len(g.slots) != 2 {
		t.Errorf("%d slots taken, want 2", len(g.slots))
	}
}

// TestFailuresLimited: after maxFailures failures in a window a client
// address, or a username, is answered 429 with Retry-After before any
// bcrypt; a password already known to be right still passes.
func TestFailuresLimited(t *testing.T) {
	f := newFilter(t)
	at := time.Date(2030, 1, 1, 12, 0, 10, 0, time.UTC) // 50 s left in the window
	f.now = func() time.Time { return at }
	if b := from(f, "192.0.2.1", basic("alice", right)); b.ErrorStatus != 200 {
		t.Fatalf("right password: %d", b.ErrorStatus)
	}
	for i := range maxFailures {
		if b := from(f, "192.0.2.1", basic("alice", fmt.Sprint("guess-", i))); b.ErrorStatus != 401 {
			t.Fatalf("failure %d: %d, want 401", i, b.ErrorStatus)
		}
	}
	for _, tc := range []struct {
		name, addr, auth string
		status           int
	}{
		{"the address past the limit", "192.0.2.1", basic("bob", "guess"), 429},
		{"the username past the limit, from elsewhere", "198.51.100.7", basic("alice", "guess-new"), 429},
		{"a known right password from the blocked address", "192.0.2.1", basic("alice", right), 200},
		{"a known wrong password still costs nothing", "198.51.100.7", basic("alice", "guess-0"), 401},
		{"another user from another address", "198.51.100.7", basic("dave", "guess"), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := from(f, tc.addr, tc.auth)
			if b.ErrorStatus != tc.status {
				t.Fatalf("status %d, want %d", b.ErrorStatus, tc.status)
			}
			if tc.status == 429 && b.RespHeader.Get("Retry-After") != "50" {
				t.Errorf("Retry-After %q, want 50", b.RespHeader.Get("Retry-After"))
			}
		})
	}
	// The next window starts over.
	at = at.Add(failureWindow)
	if b := from(f, "192.0.2.1", basic("bob", "guess")); b.ErrorStatus != 401 {
		t.Errorf("in the next window: %d, want 401", b.ErrorStatus)
	}
}

func TestVerdictsBounded(t *testing.T) {
	g := newGuard(1, 0, 16)
	now := time.Now().UnixNano()
	for i := range 100 {
		g.remember(now, verdictKey{sum: [32]byte{byte(i)}}, false)
		if len(g.verdicts) > 16 {
			t.Fatalf("%d verdicts, bound 16", len(g.verdicts))
		}
	}
	if _, found := g.known(now+int64(verdictTTL), verdictKey{sum: [32]byte{99}}); found {
		t.Errorf("a verdict older than its time is still used")
	}
}

// TestVerdictsSurviveReload: a configuration reload compiles every
// credential anew; what was known of a password stays known, so the
// known-right password still passes (no bcrypt, whatever the failure
// counts say) on the new filter.
func TestVerdictsSurviveReload(t *testing.T) {
	snap := consumers(t)
	f, _ := New(Config{}, consumer.New(snap))
	f.g = newGuard(2, 8, 64)
	from(f, "192.0.2.1", basic("alice", right))
	reloaded, _ := New(Config{}, consumer.New(snap)) // the same snapshot, compiled again
	reloaded.g = f.g
	free := occupy(f.g)
	defer free()
	if b := from(reloaded, "192.0.2.1", basic("alice", right)); b.ErrorStatus != 200 {
		t.Fatalf("the known right password after a reload: status %d, want it admitted without a bcrypt", b.ErrorStatus)
	}
}
