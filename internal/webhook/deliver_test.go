package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

const testSecret = "whsec_0123456789abcdef"

// clock is the Deliverer's time in these tests: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// CatchUp moves the clock to the real time if it is behind: the store
// stamps a new delivery due at the real time.
func (c *clock) CatchUp() {
	c.mu.Lock()
	if now := time.Now().UTC(); c.t.Before(now) {
		c.t = now
	}
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stores runs fn on each store: SQLite, and PostgreSQL when it runs here.
func stores(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := store.OpenSQLite(t.Context(), storetest.SQLiteDir(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := store.OpenPostgres(t.Context(), storetest.PostgresDSN(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
}

func openSQLite(t *testing.T) store.Store {
	st, err := store.OpenSQLite(t.Context(), storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fixture is a store with project "p" whose webhook points at url, and
// a Deliverer on a stopped clock allowed to deliver to this machine.
type fixture struct {
	st    store.Store
	keys  *credential.Keyring
	clock *clock
	d     *Deliverer
}

func newFixture(t *testing.T, st store.Store, url string) *fixture {
	t.Helper()
	f := &fixture{st: st, keys: credential.NewRandomKeyring(), clock: &clock{t: time.Now().UTC()}}
	f.addProject(t, "p", url)
	f.d = &Deliverer{Store: st, Keys: f.keys, PrivateNetworks: true, Now: f.clock.Now, BaseDelay: time.Minute}
	return f
}

func (f *fixture) addProject(t *testing.T, project, url string) {
	t.Helper()
	ctx := t.Context()
	err := f.st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateProject(ctx, &spec.Project{ID: project, Name: project}); err != nil {
			return err
		}
		if url == "" {
			return nil
		}
		sealed, err := f.keys.Seal(testSecret, SecretAAD(project))
		if err != nil {
			return err
		}
		return tx.SetProjectWebhook(ctx, project, url, sealed)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) enqueue(t *testing.T, project, event string, a spec.Approval) {
	t.Helper()
	ctx := t.Context()
	if err := f.st.Tx(ctx, func(tx store.Tx) error { return Enqueue(ctx, tx, project, event, a) }); err != nil {
		t.Fatal(err)
	}
	f.clock.CatchUp()
}

func (f *fixture) deliveries(t *testing.T, project string) []store.WebhookDelivery {
	t.Helper()
	var out []store.WebhookDelivery
	ctx := t.Context()
	err := f.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, _, err = tx.ListWebhookDeliveries(ctx, project, store.ListQuery{PageSize: 500})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) runOnce(t *testing.T, want int) {
	t.Helper()
	n, err := f.d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("RunOnce made %d attempts, want %d", n, want)
	}
}

// hit is one request a receiver got.
type hit struct {
	header http.Header
	body   []byte
}

// testReceiver answers with statuses in turn (the last one for ever after)
// and keeps what it got.
type testReceiver struct {
	mu       sync.Mutex
	statuses []int
	hits     []hit
}

func newReceiver(t *testing.T, statuses ...int) (*testReceiver, *httptest.Server) {
	r := &testReceiver{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, hit{req.Header.Clone(), b})
		status := r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *testReceiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit{}, r.hits...)
}

var approval = spec.Approval{ID: "a1", Kind: spec.ApprovalSubscription, Project: "p", Service: "s1", ServiceName: "orders",
	State: spec.ApprovalApproved, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func TestEnqueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t), "https://hooks.example.com/portico?token=x")
	f.addProject(t, "quiet", "")
	before := time.Now().UTC().Truncate(time.Second)
	f.enqueue(t, "p", EventApprovalApproved, approval)
	f.enqueue(t, "quiet", EventApprovalApproved, approval)
	if got := f.deliveries(t, "quiet"); len(got) != 0 {
		t.Errorf("a project without a webhook has deliveries: %+v", got)
	}
	got := f.deliveries(t, "p")
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	dl := got[0]
	if dl.Event != EventApprovalApproved || dl.Attempts != 0 || !dl.DeliveredAt.IsZero() {
		t.Errorf("delivery %+v", dl)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(dl.Body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 5 {
		t.Errorf("body %s: want exactly id, event, created_at, project, data", dl.Body)
	}
	str := map[string]string{}
	for _, k := range []string{"id", "event", "created_at", "project"} {
		var v string
		if err := json.Unmarshal(raw[k], &v); err != nil {
			t.Errorf("body %s: %v", k, err)
		}
		str[k] = v
	}
	if str["id"] != dl.ID || str["event"] != EventApprovalApproved || str["project"] != "p" {
		t.Errorf("body %s; the delivery is %s", dl.Body, dl.ID)
	}
	if at, err := time.Parse(time.RFC3339, str["created_at"]); err != nil || at.Before(before) || !strings.HasSuffix(str["created_at"], "Z") {
		t.Errorf("created_at %q: %v", str["created_at"], err)
	}
	var data spec.Approval
	if err := json.Unmarshal(raw["data"], &data); err != nil || data.ID != approval.ID || data.State != spec.ApprovalApproved {
		t.Errorf("data %s: %v", raw["data"], err)
	}
	err := f.st.Tx(t.Context(), func(tx store.Tx) error { return Enqueue(t.Context(), tx, "p", "approval.approve", approval) })
	if err == nil {
		t.Error("an unknown event was queued")
	}
}

// TestDeliver: the receiver gets the event once, with the documented
// headers and a signature that verifies with the project's secret.
func TestDeliver(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		r, srv := newReceiver(t, http.StatusNoContent)
		f := newFixture(t, st, srv.URL+"/hooks")
		f.enqueue(t, "p", EventApprovalRequested, approval)
		f.runOnce(t, 1)
		hits := r.got()
		if len(hits) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(hits))
		}
		h, dl := hits[0], f.deliveries(t, "p")[0]
		if err := Verify([]byte(testSecret), h.header, h.body, f.clock.Now(), 0); err != nil {
			t.Errorf("signature: %v", err)
		}
		for name, want := range map[string]string{"Content-Type": "application/json", "User-Agent": UserAgent,
			HeaderEvent: EventApprovalRequested, HeaderDelivery: dl.ID} {
			if got := h.header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		if string(h.body) != dl.Body {
			t.Errorf("body %s, want the queued %s", h.body, dl.Body)
		}
		if dl.DeliveredAt.IsZero() || dl.Attempts != 1 || dl.LastError != "" {
			t.Errorf("after delivery: %+v", dl)
		}
		f.clock.Advance(24 * time.Hour)
		f.runOnce(t, 0)
	})
}

// TestRetryThenDeliver: a receiver failing twice gets the delivery on
// the third attempt, each made only once its back-off has passed.
func TestRetryThenDeliver(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st store.Store) {
		r, srv := newReceiver(t, http.StatusInternalServerError, http.StatusBadGateway, http.StatusOK)
		f := newFixture(t, st, srv.URL)
		f.enqueue(t, "p", EventApprovalRejected, approval)
		for attempt := 1; attempt <= 3; attempt++ {
			f.runOnce(t, 1)
			dl := f.deliveries(t, "p")[0]
			if dl.Attempts != attempt {
				t.Fatalf("attempts %d, want %d", dl.Attempts, attempt)
			}
			if attempt < 3 {
				if dl.LastError == "" || !dl.DeliveredAt.IsZero() {
					t.Fatalf("after failure %d: %+v", attempt, dl)
				}
				// Base one minute, doubled: due within [d/2, d] of the failure.
				wait := time.Minute << (attempt - 1)
				if d := dl.NextAt.Sub(f.clock.Now()); d < wait/2 || d > wait {
					t.Errorf("attempt %d: next in %s, want within [%s, %s]", attempt, d, wait/2, wait)
				}
				f.runOnce(t, 0) // not due yet
				f.clock.Advance(wait)
			} else if dl.DeliveredAt.IsZero() || dl.LastError != "" {
				t.Fatalf("after the third attempt: %+v", dl)
			}
		}
		hits := r.got()
		if len(hits) != 3 || hits[0].header.Get(HeaderDelivery) != hits[2].header.Get(HeaderDelivery) {
			t.Fatalf("the receiver got %d requests", len(hits))
		}
		for _, h := range hits {
			if string(h.body) != string(hits[0].body) {
				t.Error("a retry's body differs from the first attempt's")
			}
		}
		if err := Verify([]byte(testSecret), hits[2].header, hits[2].body, f.clock.Now(), 0); err != nil {
			t.Errorf("the retry's signature (signed at its own time): %v", err)
		}
	})
}

// TestGiveUp: after MaxAttempts failures the delivery keeps its last
// error and is never due again.
func TestGiveUp(t *testing.T) {
	t.Parallel()
	r, srv := newReceiver(t, http.StatusServiceUnavailable)
	f := newFixture(t, openSQLite(t), srv.URL)
	f.d.BaseDelay = time.Second
	f.enqueue(t, "p", EventApprovalCancelled, approval)
	for range DefaultMaxAttempts {
		f.runOnce(t, 1)
		f.clock.Advance(DefaultMaxDelay)
	}
	f.clock.Advance(24 * time.Hour)
	f.runOnce(t, 0)
	dl := f.deliveries(t, "p")[0]
	if dl.Attempts != DefaultMaxAttempts || !dl.DeliveredAt.IsZero() || dl.LastError != "the receiver answered 503" {
		t.Errorf("given up: %+v", dl)
	}
	if n := len(r.got()); n != DefaultMaxAttempts {
		t.Errorf("the receiver got %d requests, want %d", n, DefaultMaxAttempts)
	}
}

// TestReceiverRemoved: a delivery whose project has no webhook any more
// is given up at once.
func TestReceiverRemoved(t *testing.T) {
	t.Parallel()
	r, srv := newReceiver(t, http.StatusOK)
	f := newFixture(t, openSQLite(t), srv.URL)
	f.enqueue(t, "p", EventApprovalRequested, approval)
	if err := f.st.Tx(t.Context(), func(tx store.Tx) error { return tx.SetProjectWebhook(t.Context(), "p", "", "") }); err != nil {
		t.Fatal(err)
	}
	f.runOnce(t, 1)
	f.clock.Advance(24 * time.Hour)
	f.runOnce(t, 0)
	if dl := f.deliveries(t, "p")[0]; dl.Attempts != 1 || dl.LastError != errNoReceiver.Error() {
		t.Errorf("%+v", dl)
	}
	if len(r.got()) != 0 {
		t.Error("the old receiver was called")
	}
}

// TestAddressGuard: receivers on this machine are refused without
// --webhook-private-networks, also behind a host name, and the metadata
// address is refused with it. Nothing is sent.
func TestAddressGuard(t *testing.T) {
	t.Parallel()
	r, srv := newReceiver(t, http.StatusOK)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	t.Cleanup(func() { // after the parallel subtests
		if len(r.got()) != 0 {
			t.Error("a refused receiver was called")
		}
	})
	for _, tc := range []struct {
		name, url string
		private   bool
		want      string
	}{
		{"loopback", srv.URL, false, "127.0.0.1 is a loopback or private address"},
		{"a name for loopback", "http://localhost" + port, false, "is a loopback or private address"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", true, "169.254.169.254 is a link-local"},
		{"metadata over IPv6, mapped", "http://[::ffff:169.254.169.254]/", true, "169.254.169.254 is a link-local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, openSQLite(t), tc.url)
			f.d.PrivateNetworks = tc.private
			f.enqueue(t, "p", EventApprovalRequested, approval)
			f.runOnce(t, 1)
			dl := f.deliveries(t, "p")[0]
			if !strings.Contains(dl.LastError, tc.want) || !dl.DeliveredAt.IsZero() {
				t.Errorf("last error %q, want it to say %q", dl.LastError, tc.want)
			}
			if strings.Contains(dl.LastError, "meta-data") || strings.Contains(dl.LastError, "http://") {
				t.Errorf("the error names the URL: %q", dl.LastError)
			}
		})
	}
}

// TestNoRedirects: a receiver's redirect is a failure, not followed.
func TestNoRedirects(t *testing.T) {
	t.Parallel()
	target, tsrv := newReceiver(t, http.StatusOK)
	srv := httptest.NewServer(http.RedirectHandler(tsrv.URL, http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	f := newFixture(t, openSQLite(t), srv.URL)
	f.enqueue(t, "p", EventApprovalRequested, approval)
	f.runOnce(t, 1)
	if dl := f.deliveries(t, "p")[0]; !strings.Contains(dl.LastError, "307 (redirects are not followed)") {
		t.Errorf("last error %q", dl.LastError)
	}
	if len(target.got()) != 0 {
		t.Error("the redirect was followed")
	}
}

// TestTimeout: an attempt ends at the timeout when the receiver does
// not answer.
func TestTimeout(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) }) // before slow.Close, which waits for its handlers
	f := newFixture(t, openSQLite(t), slow.URL)
	f.d.Timeout = 100 * time.Millisecond
	f.enqueue(t, "p", EventApprovalRequested, approval)
	f.runOnce(t, 1)
	if dl := f.deliveries(t, "p")[0]; dl.LastError != "no answer within 100ms" {
		t.Errorf("the hanging receiver: %+v", dl)
	}
}

// TestLargeAnswer: a huge answer is read no further than needed.
func TestLargeAnswer(t *testing.T) {
	t.Parallel()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 1 << 10 { // 64 MiB, unless the client hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(big.Close)
	f := newFixture(t, openSQLite(t), big.URL)
	f.enqueue(t, "p", EventApprovalRequested, approval)
	f.runOnce(t, 1)
	if dl := f.deliveries(t, "p")[0]; dl.DeliveredAt.IsZero() {
		t.Errorf("the large answer: %+v", dl)
	}
}

// TestSlowReceiverHoldsItsOwnSlots: a receiver that does not answer
// holds at most perProject attempts; another project's delivery goes out
// meanwhile, by Run as the control plane runs it.
func TestSlowReceiverHoldsItsOwnSlots(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	var mu sync.Mutex
	slowHits := 0
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		slowHits++
		mu.Unlock()
		<-hang
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	fast := make(chan string, 1)
	quick := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		fast <- r.Header.Get(HeaderDelivery)
	}))
	t.Cleanup(quick.Close)

	f := newFixture(t, openSQLite(t), slow.URL)
	f.addProject(t, "q", quick.URL)
	f.d.Concurrency = 3
	f.d.Timeout = time.Hour
	for range 10 { // older than q's, so first in line
		f.enqueue(t, "p", EventApprovalRequested, approval)
	}
	f.enqueue(t, "q", EventApprovalRequested, approval)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.d.Run(ctx)
	}()
	select {
	case id := <-fast:
		if id != f.deliveries(t, "q")[0].ID {
			t.Errorf("the quick receiver got %q", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the quick receiver got nothing while the slow one hung")
	}
	stop()
	<-done // Run returns once the attempts it started end with ctx
	mu.Lock()
	defer mu.Unlock()
	if slowHits > perProject {
		t.Errorf("the slow receiver got %d attempts at once, want at most %d", slowHits, perProject)
	}
	for _, dl := range f.deliveries(t, "p") {
		if dl.Attempts != 0 {
			t.Errorf("an attempt cut short by the shutdown was counted: %+v", dl)
		}
	}
}

// TestPrune: deliveries older than Retention go, delivered or not.
func TestPrune(t *testing.T) {
	t.Parallel()
	_, srv := newReceiver(t, http.StatusOK)
	f := newFixture(t, openSQLite(t), srv.URL)
	f.enqueue(t, "p", EventApprovalRequested, approval)
	f.runOnce(t, 1)
	f.clock.Advance(Retention - time.Hour)
	f.runOnce(t, 0)
	if n := len(f.deliveries(t, "p")); n != 1 {
		t.Fatalf("%d deliveries before the retention ends", n)
	}
	f.clock.Advance(2 * time.Hour)
	f.runOnce(t, 0)
	if n := len(f.deliveries(t, "p")); n != 0 {
		t.Errorf("%d deliveries past the retention", n)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt   int
		base, max time.Duration
		want      time.Duration // before jitter
	}{
		{1, time.Second, time.Hour, time.Second},
		{2, time.Second, time.Hour, 2 * time.Second},
		{11, time.Second, time.Hour, 1024 * time.Second},
		{12, time.Second, time.Hour, 2048 * time.Second},
		{13, time.Second, time.Hour, time.Hour},
		{400, time.Second, time.Hour, time.Hour},
		{70, time.Hour, 1 << 62, 1 << 62},
		{3, 0, time.Hour, 0},
	} {
		for range 200 {
			got := Backoff(tc.attempt, tc.base, tc.max)
			if got < tc.want/2 || got > tc.want {
				t.Fatalf("Backoff(%d, %s, %s) = %s, want within [%s, %s]", tc.attempt, tc.base, tc.max, got, tc.want/2, tc.want)
			}
		}
	}
}
