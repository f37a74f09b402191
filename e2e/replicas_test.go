package e2e

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	b := startServer(t, t.TempDir(), "--store", dsn)
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
	start := time.Now()
	a.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.1","upstream":`+nodes(two)+`}`, 201, nil)
	took := waitFor(t, g.Gateway+"/rep/x", 5*time.Second, from("two"))
	t.Logf("published on one control plane, served by a gateway fed by the other after %v (%v after the answer)", time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
	waitFor(t, b.Gateway+"/rep/x", 5*time.Second, from("two"))

	// Steady load on the gateway while its control plane dies.
	stop := make(chan struct{})
	var failed, served atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, _, _, err := get(context.Background(), g.Gateway+"/rep/x")
				if err != nil || st != 200 {
					failed.Add(1)
				} else {
					served.Add(1)
				}
			}
		})
	}
	b.kill(t)
	_, three := backend(t, "three")
	a.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.2","upstream":`+nodes(three)+`}`, 201, nil)
	took = waitFor(t, g.Gateway+"/rep/x", 20*time.Second, from("three"))
	t.Logf("after kill -9 of its control plane, the gateway served a publish on the other after %v", took.Round(time.Millisecond))
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || served.Load() == 0 {
		t.Errorf("under load through the kill: %d served, %d failed", served.Load(), failed.Load())
	}
}
