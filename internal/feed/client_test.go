package feed

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

func mustKeyring(t *testing.T) *credential.Keyring {
	t.Helper()
	k, err := credential.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// feedStub answers polls with answer(n, r) for the n-th poll (from 0).
func feedStub(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ptg_test" || r.URL.Path != PathPrefix+"g" {
			http.Error(w, "bad poll", http.StatusBadRequest)
			return
		}
		answer(int(n.Add(1)-1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sendUpdate(w http.ResponseWriter, snap *spec.Snapshot) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Update{Revision: snap.Revision, Snapshot: *snap})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestClientPollsAndCaches: the first poll takes what there is without
// waiting; later ones wait, and a poll that ends without a change is
// followed by the next; each snapshot handed over opened is cached sealed
// once applied.
func TestClientPollsAndCaches(t *testing.T) {
	keys := mustKeyring(t)
	sealed, _ := keys.Seal("s3cret", "c1")
	withSecret := snapAt(2)
	withSecret.Groups[0].Consumers = []spec.Consumer{{Credentials: []spec.ConsumerCredential{{ID: "c1", Sealed: sealed}}}}
	srv := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch n {
		case 0:
			if q.Get("wait") != "0s" || q.Get("after") != "0" {
				t.Errorf("first poll %s: want after=0, wait=0s", r.URL.RawQuery)
			}
			sendUpdate(w, snapAt(1))
		case 1:
			if q.Get("wait") != "1s" || q.Get("after") != "1" {
				t.Errorf("second poll %s: want after=1, wait=1s", r.URL.RawQuery)
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			sendUpdate(w, withSecret)
		}
	})
	cache := &Cache{Dir: t.TempDir()}
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Keys: keys, Cache: cache, Wait: time.Second}
	ctx := testCtx(t)
	s1, err := c.Next(ctx, []string{"g"}, 0)
	if err != nil || s1.Revision != 1 {
		t.Fatalf("first Next: %v, %v", s1, err)
	}
	s2, err := c.Next(ctx, []string{"g"}, 1)
	if err != nil || s2.Revision != 2 {
		t.Fatalf("second Next: %v, %v", s2, err)
	}
	if got := s2.Groups[0].Consumers[0].Credentials[0]; got.Secret != "s3cret" || got.Sealed != "" {
		t.Errorf("handed over %+v; want the secret opened", got)
	}
	// Cached only once the gateway applied it: one it refused is never
	// what it starts from.
	if _, err := cache.Load(); err == nil {
		t.Fatal("a snapshot was cached before the gateway applied it")
	}
	c.Applied(2)
	cached, err := cache.Load()
	if err != nil || cached.Snapshot.Revision != 2 || cached.Snapshot.Groups[0].Consumers[0].Credentials[0].Sealed != sealed {
		t.Fatalf("cache: %+v, %v; want revision 2 with the secret sealed", cached.Snapshot, err)
	}
	if st := c.Status(); !st.Connected || st.FromCache || st.Revision != 2 {
		t.Errorf("status %+v", st)
	}
}

// TestClientStartsFromCache: with the control plane unreachable at start,
// the newest cached snapshot is handed over; the client then keeps
// polling and hands over the control plane's once it answers.
func TestClientStartsFromCache(t *testing.T) {
	cache := &Cache{Dir: t.TempDir()}
	if err := cache.Save(snapAt(7), time.Now()); err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	srv := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusBadGateway) // a proxy in front of a stopped control plane
			return
		}
		sendUpdate(w, snapAt(8))
	})
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Cache: cache, Wait: time.Second}
	ctx := testCtx(t)
	s, err := c.Next(ctx, []string{"g"}, 0)
	if err != nil || s.Revision != 7 || !c.Status().FromCache {
		t.Fatalf("Next at start: %v, %v, status %+v; want the cached revision 7", s, err, c.Status())
	}
	up.Store(true)
	s, err = c.Next(ctx, []string{"g"}, 7)
	if err != nil || s.Revision != 8 {
		t.Fatalf("Next once back: %v, %v", s, err)
	}
}

// TestClientAppliesOnlyWhole: an answer for another group, or one whose
// revisions disagree or do not move forward, is not handed over; the
// client polls again. A refused token is retried too.
func TestClientAppliesOnlyWhole(t *testing.T) {
	other := snapAt(5)
	other.Groups[0].Group.Name = "other"
	stale := snapAt(5)
	srv := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			sendUpdate(w, other)
		case 1:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(Update{Revision: 6, Snapshot: *snapAt(5)})
		case 2:
			sendUpdate(w, stale) // not past after=5
		case 3:
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthorized","message":"the token is unknown, expired or revoked"}}`))
		default:
			sendUpdate(w, snapAt(6))
		}
	})
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Wait: time.Second}
	c.started = true // not the first poll: no wait=0, no cache
	s, err := c.Next(testCtx(t), []string{"g"}, 5)
	if err != nil || s.Revision != 6 || s.Groups[0].Group.Name != "g" {
		t.Fatalf("Next: %+v, %v; want revision 6 of g", s, err)
	}
}

// TestBackoffJitter: delays grow to the cap, never below half the first.
func TestBackoffJitter(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for i := range 50 {
		d := b.next()
		ceil := min(b.min<<min(i, 16), b.max)
		if d < b.min/2 || d > ceil {
			t.Fatalf("delay %d: %v, want within [%v, %v]", i, d, b.min/2, ceil)
		}
	}
}

// TestClientTakesReset: a control plane behind the gateway (restored from
// an older backup) sends a reset, which is handed over although its
// revision is lower.
func TestClientTakesReset(t *testing.T) {
	srv := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Update{Revision: 3, Reset: true, Snapshot: *snapAt(3)})
	})
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Wait: time.Second}
	c.started = true
	s, err := c.Next(testCtx(t), []string{"g"}, 40)
	if err != nil || s.Revision != 3 {
		t.Fatalf("Next after 40: %+v, %v; want the reset to revision 3", s, err)
	}
}
