package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestTwoControlPlanesOnPostgres: two control planes share one PostgreSQL
// database. A publish on one is served by a stand-alone gateway fed by
// the other, and by the other's embedded gateway: the commit's
// notification wakes the other control plane's waiting polls. Then the
// gateway's control plane is killed (kill -9) under steady load: no
// request fails, and a publish on the survivor reaches the gateway, which
// moved to it.
func TestTwoControlPlanesOnPostgres(t *testing.T) {
	_, _, dsn := newDatabase(t, "postgres")
	a := startServer(t, t.TempDir(), "--store", dsn)
	b := startServer(t, replicaDir(t, a), "--store", dsn)
	var tok struct{ Token string }
	a.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"fed by b"}`, 201, &tok)
	g, err := launchGateway(t, b, "default", tok.Token, t.TempDir(), "--poll-wait", "30s", "--heartbeat", "200ms", "--instance-id", "fed-by-b",
		"--control-plane", b.Admin+","+a.Admin) // b first; a when b fails
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	_, one := backend(t, "one")
	_, two := backend(t, "two")
	var svc struct{ ID string }
	a.do(t, "POST", "/api/v1/projects/default/services", `{"name":"replicated","path":"/rep"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	a.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	a.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(one)+`}`, 201, nil)
	from := func(name string) func(int, []byte) bool {
		return func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"backend":"`+name+`"`) }
	}
	waitFor(t, g.Gateway+"/rep/x", 5*time.Second, from("one"))
	waitFor(t, b.Gateway+"/rep/x", 5*time.Second, from("one"))

	// The gateway fed by b waits in a 30 s poll: only b's wake-up on a's
	// commit answers it early.
	// Its answer waits for convergence: the gateway fed by b and both
	// embedded gateways.
	start := time.Now()
	var pub convergenceAnswer
	a.do(t, "POST", base+"/publish?wait=5s", `{"group":"default","version":"1.0.1","upstream":`+nodes(two)+`}`, 201, &pub)
	if pub.Convergence.Applied != 3 || pub.Convergence.Live != 3 {
		t.Errorf("publish answered %q, want applied on 3 of 3", pub.Convergence.Summary)
	}
	took := waitFor(t, g.Gateway+"/rep/x", time.Second, from("two"))
	t.Logf("published on one control plane, served by a gateway fed by the other after %v (%v after the answer)", time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
	waitFor(t, b.Gateway+"/rep/x", 5*time.Second, from("two"))

	// Steady load on the gateway while its control plane dies.
	stop := steadyLoad(g.Gateway+"/rep/x", g.Gateway+"/rep/x", g.Gateway+"/rep/x", g.Gateway+"/rep/x")
	b.kill(t)
	_, three := backend(t, "three")
	a.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.2","upstream":`+nodes(three)+`}`, 201, nil)
	took = waitFor(t, g.Gateway+"/rep/x", 20*time.Second, from("three"))
	t.Logf("after kill -9 of its control plane, the gateway served a publish on the other after %v", took.Round(time.Millisecond))
	if served, failed := stop(); failed != 0 || served == 0 {
		t.Errorf("under load through the kill: %d served, %d failed", served, failed)
	}
}

// replicaDir is a data directory for another control plane of a's
// store: it holds a copy of a's secret key, as every control plane of a
// store must.
func replicaDir(t *testing.T, a *server) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(a.DataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// steadyLoad sends GETs to each url, one client per url, back to back,
// until the returned stop, which answers how many were served (200) and
// how many failed. It is bounded by the test that stops it.
func steadyLoad(urls ...string) (stop func() (served, failed int64)) {
	done := make(chan struct{})
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if st, _, _, err := get(context.Background(), u); err != nil || st != 200 {
					bad.Add(1)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return ok.Load(), bad.Load()
	}
}

// TestControlPlanesThroughPostgresRestart: two control planes on one
// PostgreSQL server of the test's own and three stand-alone gateways,
// each fed by either (its list of control planes in another order), under
// steady load all along. PostgreSQL is restarted for real (a fast
// shutdown, which ends every session, then a start): while it is down an
// admin write answers 503 at once; once it is back both control planes
// publish again without a restart. Then one control
// plane is killed (kill -9): the other publishes on to all three
// gateways. Then it is killed too, for PORTICO_E2E_OUTAGE (default 3 s;
// 60s for the long run): the gateways serve on, and when it comes back
// its publish reaches all three. No request fails.
func TestControlPlanesThroughPostgresRestart(t *testing.T) {
	pg := storetest.StartPostgres(t)
	dsn := pg.DSN
	dirA := t.TempDir()
	a := startServer(t, dirA, "--store", dsn)
	b := startServer(t, replicaDir(t, a), "--store", dsn)
	var tok struct{ Token string }
	a.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"through restarts"}`, 201, &tok)
	var gws []*server
	for i, list := range []string{a.Admin + "," + b.Admin, b.Admin + "," + a.Admin, a.Admin + "," + b.Admin} {
		g, err := launchGateway(t, a, "default", tok.Token, t.TempDir(), "--poll-wait", "2s", "--heartbeat", "500ms",
			"--instance-id", fmt.Sprintf("durable-%d", i), "--control-plane", list)
		if err != nil {
			t.Fatalf("%v\n%s", err, g.out.String())
		}
		gws = append(gws, g)
	}
	from := func(name string) func(int, []byte) bool {
		return func(st int, body []byte) bool {
			return st == 200 && strings.Contains(string(body), `"backend":"`+name+`"`)
		}
	}
	var svc struct{ ID string }
	a.do(t, "POST", "/api/v1/projects/default/services", `{"name":"durable","path":"/d"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	a.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	publish := func(s *server, version, name string) {
		t.Helper()
		_, port := backend(t, name)
		start := time.Now()
		s.do(t, "POST", base+"/publish", `{"group":"default","version":"`+version+`","upstream":`+nodes(port)+`}`, 201, nil)
		// A gateway that found no control plane waits its backoff (at most
		// 15 s, jittered) before it asks again.
		for _, g := range gws {
			waitFor(t, g.Gateway+"/d/x", 30*time.Second, from(name))
		}
		t.Logf("%s served by all three gateways %v after the publish", version, time.Since(start).Round(time.Millisecond))
	}
	publish(a, "1.0.0", "one")

	// Steady load on the three gateways from here to the end.
	stop := steadyLoad(gws[0].Gateway+"/d/x", gws[1].Gateway+"/d/x", gws[2].Gateway+"/d/x")
	defer func() {
		served, failed := stop()
		t.Logf("under load all along: %d served, %d failed", served, failed)
		if failed != 0 || served == 0 {
			t.Errorf("%d requests failed", failed)
		}
	}()

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a.do(t, "POST", "/api/v1/projects/default/services", `{"name":"while_down"}`, 503, nil)
	t.Logf("an admin write with the database stopped answered 503 after %v", time.Since(start).Round(time.Millisecond))
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	// The pools reconnect by themselves: b answers reads again.
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequest("GET", b.Admin+"/api/v1/gateway-groups/default", nil)
		req.Header.Set("Authorization", "Bearer "+b.Token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("control plane b never read the database again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	publish(b, "1.0.1", "two")
	publish(a, "1.0.2", "three")

	// kill -9 of one control plane: the other publishes on, and the
	// gateway that was fed by the dead one moves over.
	b.kill(t)
	publish(a, "1.0.3", "four")

	// Then the other too, for the outage; it comes back and publishes.
	adminA := strings.TrimPrefix(a.Admin, "http://")
	a.kill(t)
	down := outageOr(t, 3*time.Second)
	t.Logf("both control planes killed for %v", down)
	time.Sleep(down) // the outage itself: what is measured is the load meanwhile
	a2 := startServer(t, dirA, "--store", dsn, "--admin-addr", adminA)
	publish(a2, "1.0.4", "five")
}
