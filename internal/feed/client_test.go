package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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
	json.NewEncoder(w).Encode(Update{Revision: snap.Revision, Snapshot: snap, Consumers: "d1"})
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
	u1, err := c.Next(ctx, []string{"g"}, 0)
	if err != nil || u1.Revision() != 1 {
		t.Fatalf("first Next: %v, %v", u1, err)
	}
	u2, err := c.Next(ctx, []string{"g"}, 1)
	if err != nil || u2.Revision() != 2 || u2.Snapshot == nil {
		t.Fatalf("second Next: %v, %v", u2, err)
	}
	s2 := u2.Snapshot
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
	if err != nil || s.Revision() != 7 || !c.Status().FromCache {
		t.Fatalf("Next at start: %v, %v, status %+v; want the cached revision 7", s, err, c.Status())
	}
	up.Store(true)
	s, err = c.Next(ctx, []string{"g"}, 7)
	if err != nil || s.Revision() != 8 {
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
			json.NewEncoder(w).Encode(Update{Revision: 6, Snapshot: snapAt(5)})
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
	if err != nil || s.Revision() != 6 || s.Snapshot.Groups[0].Group.Name != "g" {
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
		json.NewEncoder(w).Encode(Update{Revision: 3, Reset: true, Snapshot: snapAt(3)})
	})
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Wait: time.Second}
	c.started = true
	s, err := c.Next(testCtx(t), []string{"g"}, 40)
	if err != nil || s.Revision() != 3 {
		t.Fatalf("Next after 40: %+v, %v; want the reset to revision 3", s, err)
	}
}

func sendDelta(w http.ResponseWriter, d *spec.SnapshotDelta) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Update{Revision: d.Revision, Delta: d, Consumers: "d1"})
}

func serviceOf(id string) spec.DeployedService {
	return spec.DeployedService{ProjectID: "p", Version: "1", Service: spec.Service{ID: id, Name: id}}
}

// TestClientDeltas: once it holds the consumers' digest, the client asks
// for deltas (never with after 0); a delta is handed over with its data
// sources' passwords opened and cached sealed once applied; the cache
// then starts from the snapshot brought forward by the deltas. A delta
// that does not start from after, or carries another group, or an update
// holding both a snapshot and a delta, is not handed over.
func TestClientDeltas(t *testing.T) {
	keys := mustKeyring(t)
	sealed, _ := keys.Seal("db-pass", "ds1")
	base := snapAt(1)
	base.Groups[0].Services = []spec.DeployedService{serviceOf("a"), serviceOf("b")}
	good := &spec.SnapshotDelta{Base: 1, Revision: 3, Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g", Revision: 3},
		Services: []spec.DeployedService{serviceOf("c")}, Removed: []string{"a"}, DataSources: []spec.DataSource{{ID: "ds1", Sealed: sealed}}}}}
	srv := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch n {
		case 0:
			if q.Get(ParamDeltas) != "" {
				t.Errorf("poll after 0 asked for deltas: %s", r.URL.RawQuery)
			}
			sendUpdate(w, base)
		case 1:
			if q.Get(ParamDeltas) != "1" || q.Get(ParamConsumers) != "d1" {
				t.Errorf("poll after 1: %s, want deltas=1&consumers=d1", r.URL.RawQuery)
			}
			sendDelta(w, &spec.SnapshotDelta{Base: 2, Revision: 3, Groups: good.Groups}) // not from after
		case 2:
			other := *good
			other.Groups = []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "other"}}}
			sendDelta(w, &other)
		case 3:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(Update{Revision: 3, Delta: good, Snapshot: snapAt(3)})
		default:
			sendDelta(w, good)
		}
	})
	cache := &Cache{Dir: t.TempDir(), Group: "g"}
	c := &Client{ControlPlane: srv.URL, Group: "g", Token: "ptg_test", Keys: keys, Cache: cache, Wait: time.Second}
	ctx := testCtx(t)
	if _, err := c.Next(ctx, []string{"g"}, 0); err != nil {
		t.Fatal(err)
	}
	c.Applied(1)
	up, err := c.Next(ctx, []string{"g"}, 1)
	if err != nil || up.Delta == nil || up.Delta.Revision != 3 || up.Snapshot != nil {
		t.Fatalf("Next after 1: %+v, %v; want the delta to 3", up, err)
	}
	if ds := up.Delta.Groups[0].DataSources[0]; ds.Secret != "db-pass" || ds.Sealed != "" {
		t.Errorf("handed over %+v; want the password opened", ds)
	}
	c.Applied(3)
	cached, err := cache.Load()
	if err != nil || cached.Snapshot.Revision != 3 {
		t.Fatalf("cache: %+v, %v; want revision 3", cached.Snapshot, err)
	}
	var ids []string
	for _, ds := range cached.Snapshot.Groups[0].Services {
		ids = append(ids, ds.Service.ID)
	}
	if fmt.Sprint(ids) != "[b c]" || cached.Snapshot.Groups[0].DataSources[0].Sealed != sealed || cached.Snapshot.Groups[0].DataSources[0].Secret != "" {
		t.Errorf("cached services %v, data sources %+v; want [b c] and the password sealed", ids, cached.Snapshot.Groups[0].DataSources)
	}
}

// TestCacheCompactsDeltas: past maxCachedDeltas deltas, they are folded
// into a snapshot file, and Load answers the same revision.
func TestCacheCompactsDeltas(t *testing.T) {
	cache := &Cache{Dir: t.TempDir(), Group: "g"}
	now := time.Now()
	if err := cache.Save(snapAt(1), now); err != nil {
		t.Fatal(err)
	}
	for rev := int64(2); rev <= maxCachedDeltas+2; rev++ {
		d := &spec.SnapshotDelta{Base: rev - 1, Revision: rev, Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g", Revision: rev},
			Services: []spec.DeployedService{serviceOf(fmt.Sprintf("s%d", rev%5))}}}}
		raw, _ := json.Marshal(d)
		if err := cache.saveDeltaRaw(d.Base, d.Revision, raw, now); err != nil {
			t.Fatal(err)
		}
	}
	before, err := cache.Load()
	if err != nil || before.Snapshot.Revision != maxCachedDeltas+2 || len(before.Snapshot.Groups[0].Services) != 5 {
		t.Fatalf("Load over deltas: %+v, %v", before.Snapshot, err)
	}
	if _, err := cache.compact(now); err != nil {
		t.Fatal(err)
	}
	if deltas, _ := cache.deltaRevisions(); len(deltas) != 0 {
		t.Errorf("%d deltas left after compaction", len(deltas))
	}
	after, err := cache.Load()
	if err != nil || after.Snapshot.Revision != before.Snapshot.Revision || len(after.Snapshot.Groups[0].Services) != 5 {
		t.Fatalf("Load after compaction: %+v, %v", after.Snapshot, err)
	}
	// A damaged delta ends the chain: the revision before it is served.
	d := &spec.SnapshotDelta{Base: after.Snapshot.Revision, Revision: after.Snapshot.Revision + 1,
		Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}}}}
	raw, _ := json.Marshal(d)
	cache.saveDeltaRaw(d.Base, d.Revision, raw, now)
	b, _ := os.ReadFile(cache.deltaPath(d.Revision))
	os.WriteFile(cache.deltaPath(d.Revision), b[:len(b)-10], 0o600)
	got, err := cache.Load()
	if err != nil || got.Snapshot.Revision != after.Snapshot.Revision || len(got.Skipped) != 1 {
		t.Fatalf("Load over a damaged delta: revision %d, skipped %v, %v", got.Snapshot.Revision, got.Skipped, err)
	}
}

// TestClientFailsOver: with several control planes, a client whose
// control plane is gone, or answers 5xx, asks the next one, and stays
// with the one that answers; a refused token does not move it.
func TestClientFailsOver(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	failing := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
	})
	var asked atomic.Int32
	up := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		sendUpdate(w, snapAt(7))
	})
	c := &Client{ControlPlane: down.URL + "," + failing.URL + "/ , " + up.URL, Group: "g", Token: "ptg_test", Wait: time.Second}
	c.started = true
	for range 2 {
		s, err := c.Next(testCtx(t), []string{"g"}, 5)
		if err != nil || s.Revision() != 7 {
			t.Fatalf("Next: %+v, %v; want revision 7 from the third control plane", s, err)
		}
	}
	if c.base() != up.URL || asked.Load() != 2 {
		t.Errorf("asking %s (%d answers from the live one), want to stay with %s", c.base(), asked.Load(), up.URL)
	}

	refusing := feedStub(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	r := &Client{ControlPlane: refusing.URL + "," + up.URL, Group: "g", Token: "ptg_test", Wait: time.Second}
	if _, err := r.poll(testCtx(t), 5, time.Second); err == nil || r.base() != refusing.URL {
		t.Errorf("a refused token: %v, now asking %s; want to stay with %s", err, r.base(), refusing.URL)
	}
}

// A gateway reads a whole snapshot's services as JSON, to compile them
// one at a time, and keeps the snapshot as sent for its cache.
func TestDecodeUpdateKeepsServicesAsJSON(t *testing.T) {
	snap := &spec.Snapshot{Revision: 4, Groups: []spec.GroupSnapshot{{Group: spec.GatewayGroup{Name: "g"},
		Services:  []spec.DeployedService{{ProjectID: "p", Service: spec.Service{ID: "a", Name: "a"}}, {ProjectID: "p", Service: spec.Service{ID: "b", Name: "b"}}},
		Consumers: []spec.Consumer{{ID: "app"}}}}}
	body, err := json.Marshal(Update{Revision: 4, Snapshot: snap, Consumers: "d"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := decodeUpdate(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	g := up.Snapshot.Groups[0]
	if up.Revision != 4 || up.Consumers != "d" || up.Snapshot.Revision != 4 || g.Group.Name != "g" || len(g.Consumers) != 1 ||
		g.Services != nil || len(g.ServicesJSON) != 2 {
		t.Fatalf("decoded %+v, group %+v", up, g)
	}
	var b spec.DeployedService
	if err := json.Unmarshal(g.ServicesJSON[1], &b); err != nil || b.Service.ID != "b" {
		t.Errorf("second service %+v, %v", b, err)
	}
	var cached spec.Snapshot
	if err := json.Unmarshal(up.snapshotJSON, &cached); err != nil || len(cached.Groups[0].Services) != 2 {
		t.Errorf("the snapshot kept for the cache: %+v, %v", cached, err)
	}
	delta, err := decodeUpdate(bytes.NewReader([]byte(`{"revision":5,"delta":{"base":4,"revision":5,"groups":[]}}`)))
	if err != nil || delta.Snapshot != nil || delta.Delta == nil || delta.snapshotJSON != nil {
		t.Errorf("a delta: %+v, %v", delta, err)
	}
}
