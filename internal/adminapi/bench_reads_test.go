package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// BenchmarkAdminReadsUnderPublish measures how many service-list GETs the
// admin API answers while another client publishes versions back to back,
// which is what a UI polling the catalog sees during a release train. It
// reports reads/s, the median and 99th percentile read latency, and the
// publishes/s that ran beside them.
//
//	go test -run '^$' -bench AdminReadsUnderPublish -benchtime 3s -count 3 ./internal/adminapi/
//
// Three variants run side by side: "read-view" is the server as built on
// SQLite (GETs on the store's read-only view, beside the writer),
// "write-lock" sends every read through the write transaction, as the
// store did before it had a read view, and "postgres" is the server as
// built on the machine's PostgreSQL (skipped when it does not run). The store is used bare, not behind commitGuard: the
// guard reads every group's snapshot twice per transaction, which would
// swamp what is measured.
func BenchmarkAdminReadsUnderPublish(b *testing.B) {
	sqlite := func(b *testing.B) (*store.SQL, error) {
		return store.OpenSQLite(context.Background(), b.TempDir(), nil)
	}
	postgres := func(b *testing.B) (*store.SQL, error) {
		return store.OpenPostgres(context.Background(), storetest.PostgresDSN(b), nil)
	}
	b.Run("read-view", func(b *testing.B) { benchReadsUnderPublish(b, sqlite, false) })
	b.Run("write-lock", func(b *testing.B) { benchReadsUnderPublish(b, sqlite, true) })
	b.Run("postgres", func(b *testing.B) { benchReadsUnderPublish(b, postgres, false) })
}

// readsOnWriteLock is a store whose read view is its write transaction.
type readsOnWriteLock struct{ store.Store }

func (s readsOnWriteLock) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Tx(ctx, fn)
}

func benchReadsUnderPublish(b *testing.B, open func(*testing.B) (*store.SQL, error), writeLockReads bool) {
	ctx := context.Background()
	st, err := open(b)
	if err != nil {
		b.Fatalf("open the store: %v", err)
	}
	b.Cleanup(func() { _ = st.Close() })
	hash, err := HashPassword(adminPassword)
	if err != nil {
		b.Fatalf("HashPassword: %v", err)
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: spec.DefaultGroup}); err != nil {
			return err
		}
		p := &spec.Project{ID: spec.DefaultProject, Name: spec.DefaultProject, TestGroup: spec.DefaultGroup, ProductionGroup: spec.DefaultGroup}
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &spec.User{Username: "admin", Role: rbac.SuperAdmin}, hash)
	})
	if err != nil {
		b.Fatalf("bootstrap: %v", err)
	}
	var served store.Store = st
	if writeLockReads {
		served = readsOnWriteLock{st}
	}
	srv := httptest.NewServer(New(Config{Store: served, Version: "bench", MaxBodyBytes: 64 << 10}))
	b.Cleanup(srv.Close)
	// Enough idle connections for every reader and the publisher, so the
	// run measures the API rather than TCP handshakes and port exhaustion.
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	b.Cleanup(client.CloseIdleConnections)

	send := func(token, method, path, body string) (int, []byte, error) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+Prefix+path, rd)
		if err != nil {
			return 0, nil, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	must := func(token, method, path, body string, want int) []byte {
		b.Helper()
		status, out, err := send(token, method, path, body)
		if err != nil || status != want {
			b.Fatalf("%s %s: status %d, err %v, want %d; body %s", method, path, status, err, want, out)
		}
		return out
	}

	var login struct{ Token string }
	if err := json.Unmarshal(must("", "POST", "/auth/login", fmt.Sprintf(`{"username":"admin","password":%q}`, adminPassword), http.StatusOK), &login); err != nil {
		b.Fatalf("login: %v", err)
	}
	token := login.Token
	// A page of services with routes, like a small project's catalog.
	for i := range 20 {
		name := fmt.Sprintf("svc-%02d", i)
		must(token, "POST", "/projects/default/services", fmt.Sprintf(`{"name":%q,"protocols":["http"]}`, name), http.StatusCreated)
		must(token, "POST", "/projects/default/services/"+name+"/routes",
			`{"name":"all","paths":["/all/*"],"methods":["GET"]}`, http.StatusCreated)
	}

	stop := make(chan struct{})
	var published atomic.Int64
	var wg sync.WaitGroup
	b.SetParallelism(4) // readers per core: more than the cores, as a UI's polls are
	b.ResetTimer()
	start := time.Now()
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			body := fmt.Sprintf(`{"group":"default","version":"1.0.%d","upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":8080,"weight":100}]}}`, n)
			status, out, err := send(token, "POST", "/projects/default/services/svc-00/publish", body)
			if err != nil || status != http.StatusCreated {
				b.Errorf("publish 1.0.%d: status %d, err %v; body %s", n, status, err, out)
				return
			}
			published.Add(1)
		}
	})
	var latMu sync.Mutex
	var latencies []time.Duration
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() {
			latMu.Lock()
			latencies = append(latencies, mine...)
			latMu.Unlock()
		}()
		for pb.Next() {
			t0 := time.Now()
			status, out, err := send(token, "GET", "/projects/default/services?page_size=20", "")
			if err != nil || status != http.StatusOK {
				b.Errorf("list services: status %d, err %v; body %s", status, err, out)
				return
			}
			mine = append(mine, time.Since(t0))
		}
	})
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
	b.ReportMetric(float64(published.Load())/elapsed.Seconds(), "publishes/s")
	// Queueing behind the write lock shows in the tail more than in the mean.
	if len(latencies) > 0 {
		slices.Sort(latencies)
		at := func(q float64) float64 {
			return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(at(0.50), "p50-ms")
		b.ReportMetric(at(0.99), "p99-ms")
	}
}
