package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func TestLockPolicy(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := lockPolicy{threshold: 3, window: 15 * time.Minute, base: time.Minute, max: 4 * time.Minute}
	type step struct {
		at     time.Duration // since t0
		locked time.Duration // 0: no lockout starts
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"below the threshold", []step{{0, 0}, {time.Minute, 0}}},
		{"threshold locks for base", []step{{0, 0}, {1, 0}, {2, time.Minute}}},
		{"each failure after a lockout doubles it, up to max", []step{{0, 0}, {1, 0}, {2, time.Minute},
			{2 * time.Minute, 2 * time.Minute}, {5 * time.Minute, 4 * time.Minute}, {10 * time.Minute, 4 * time.Minute}}},
		{"quiet for the window starts afresh", []step{{0, 0}, {1, 0}, {20 * time.Minute, 0}, {21 * time.Minute, 0}, {22 * time.Minute, time.Minute}}},
		{"the window counts from the end of a lockout", []step{{0, 0}, {1, 0}, {2, time.Minute},
			{15*time.Minute + time.Second, 2 * time.Minute}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s store.LoginState
			for i, st := range tt.steps {
				d, locked := p.fail(&s, t0.Add(st.at))
				if locked != (st.locked > 0) || d != st.locked {
					t.Fatalf("step %d: lockout %v %v, want %v", i, d, locked, st.locked)
				}
				if locked && !s.LockedUntil.Equal(t0.Add(st.at+d)) {
					t.Fatalf("step %d: locked until %v, want %v", i, s.LockedUntil, t0.Add(st.at+d))
				}
			}
		})
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// withClock serves a second admin API over a's store with the clock.
func withClock(a *testAPI, clk *clock) *testAPI {
	srv := httptest.NewServer(New(Config{Store: a.store, Version: "test", Now: clk.now}))
	a.t.Cleanup(srv.Close)
	return &testAPI{t: a.t, url: srv.URL, token: a.token, store: a.store}
}

func countPasswordChecks(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	saved := checkPassword
	checkPassword = func(hash, pw string) bool { n.Add(1); return saved(hash, pw) }
	t.Cleanup(func() { checkPassword = saved })
	return &n
}

func loginBody(user, pw string) string {
	return fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)
}

func audits(t *testing.T, st store.Store, action string) []spec.AuditEvent {
	t.Helper()
	var out []spec.AuditEvent
	err := st.Tx(context.Background(), func(tx store.Tx) error {
		items, _, err := tx.ListAudit(context.Background(), store.AuditFilter{AllProjects: true}, store.ListQuery{Page: 1, PageSize: 500})
		for _, e := range items {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoginLockout: five wrong passwords lock the user; the sixth attempt,
// even with the right password, is 429 with Retry-After and runs no
// bcrypt; after the lockout the right password works and resets the count.
func TestLoginLockout(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	checks := countPasswordChecks(t)
	for i := range 5 {
		if r := a.doToken("", "POST", "/auth/login", loginBody("admin", "wrong")); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d %s", i+1, r.status, r.body)
		}
	}
	before := checks.Load()
	r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" {
		t.Fatalf("locked login: %d Retry-After %q %s, want 429 60", r.status, r.header.Get("Retry-After"), r.body)
	}
	if p := r.problem(t); p.Type != typeTooMany {
		t.Errorf("problem type %q", p.Type)
	}
	if checks.Load() != before {
		t.Error("a locked login ran bcrypt")
	}
	if n := len(audits(t, a.store, "auth.login_failed")); n != 5 {
		t.Errorf("%d auth.login_failed audit events, want 5", n)
	}
	lock := audits(t, a.store, "auth.lockout")
	if len(lock) != 1 || lock[0].Resource != "/users/admin" {
		t.Fatalf("lockout audit events: %+v", lock)
	}
	clk.advance(30 * time.Second)
	if r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword)); r.header.Get("Retry-After") != "30" {
		t.Fatalf("Retry-After halfway: %q", r.header.Get("Retry-After"))
	}
	clk.advance(31 * time.Second)
	if r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword)); r.status != http.StatusOK {
		t.Fatalf("login after the lockout: %d %s", r.status, r.body)
	}
	// The success reset the count: four failures do not lock again.
	for range 4 {
		a.doToken("", "POST", "/auth/login", loginBody("admin", "wrong"))
	}
	if r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword)); r.status != http.StatusOK {
		t.Fatalf("login after four failures: %d %s", r.status, r.body)
	}
}

// TestLoginLockoutGrows: a failure right after a lockout locks for twice
// as long; the lockout survives a restart (it is in the store).
func TestLoginLockoutGrows(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	for range 5 {
		a.doToken("", "POST", "/auth/login", loginBody("admin", "wrong"))
	}
	clk.advance(61 * time.Second)
	a.doToken("", "POST", "/auth/login", loginBody("admin", "wrong"))
	restarted := withClock(a, clk)
	r := restarted.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "120" {
		t.Fatalf("second lockout after a restart: %d Retry-After %q, want 429 120", r.status, r.header.Get("Retry-After"))
	}
}

// TestLoginUnknownUserLocks: an unknown username locks like a known one
// (no enumeration through the throttle) and costs one bcrypt too.
func TestLoginUnknownUserLocks(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	checks := countPasswordChecks(t)
	for range 5 {
		if r := a.doToken("", "POST", "/auth/login", loginBody("ghost", "x")); r.status != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d", r.status)
		}
	}
	if checks.Load() != 5 {
		t.Errorf("%d password checks for 5 unknown-user logins, want 5", checks.Load())
	}
	if r := a.doToken("", "POST", "/auth/login", loginBody("ghost", "x")); r.status != http.StatusTooManyRequests {
		t.Fatalf("sixth unknown-user login: %d, want 429", r.status)
	}
}

// TestLoginClientLockout: one address trying many usernames is locked
// after 20 failures, whatever the username.
func TestLoginClientLockout(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	for i := range clientPolicy.threshold {
		if r := a.doToken("", "POST", "/auth/login", loginBody("user"+strconv.Itoa(i), "x")); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("login from a locked address: %d %q", r.status, r.header.Get("Retry-After"))
	}
	found := false
	for _, e := range audits(t, a.store, "auth.lockout") {
		found = found || e.Resource == "/clients/127.0.0.1"
	}
	if !found {
		t.Error("no lockout audit event for the client address")
	}
}

// TestUnlockUser: an admin lifts a lockout (audited); another user may not.
func TestUnlockUser(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	if r := a.do("POST", "/users/admin/unlock", nil); r.status != http.StatusNotFound {
		t.Fatalf("unlock without failures: %d, want 404", r.status)
	}
	for range 5 {
		a.doToken("", "POST", "/auth/login", loginBody("admin", "wrong"))
	}
	if r := a.doToken(a.viewerToken(t), "POST", "/users/admin/unlock", nil); r.status != http.StatusForbidden {
		t.Fatalf("unlock by a viewer: %d, want 403", r.status)
	}
	// It takes no body: one with fields is refused, and nothing is lifted.
	if r := a.do("POST", "/users/admin/unlock", map[string]any{"minutes": 5}); r.status != http.StatusBadRequest {
		t.Fatalf("unlock with a body: %d %s, want 400", r.status, r.body)
	}
	var res unlockResult
	a.mustJSON("POST", "/users/admin/unlock", nil, http.StatusOK, &res)
	if res.Username != "admin" || res.Failures != 5 {
		t.Errorf("unlock answer %+v", res)
	}
	if ev := audits(t, a.store, "auth.unlock"); len(ev) != 1 || ev[0].Actor != "admin" {
		t.Errorf("unlock audit events: %+v", ev)
	}
	if r := a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword)); r.status != http.StatusOK {
		t.Fatalf("login after unlock: %d %s", r.status, r.body)
	}
}
