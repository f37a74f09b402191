package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outage is how long TestStandaloneGatewaysUnderLoad keeps the control
// plane down (PORTICO_E2E_OUTAGE, e.g. 60s, for a longer run).
func outage(t *testing.T) time.Duration { return outageOr(t, 15*time.Second) }

// outageOr is PORTICO_E2E_OUTAGE, or def when it is not set.
func outageOr(t *testing.T, def time.Duration) time.Duration {
	if v := os.Getenv("PORTICO_E2E_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PORTICO_E2E_OUTAGE=%q: %v", v, err)
		}
		return d
	}
	return def
}

// convergenceAnswer is the part of a change's answer that says where its
// revision is applied.
type convergenceAnswer struct {
	Convergence struct {
		Revision      int64
		Applied, Live int
		Summary       string
	}
}

// TestStandaloneGatewaysUnderLoad: a control plane and three stand-alone
// gateways of one group, each under steady load. A publish is served by
// all three within a second and its answer says so; through an outage of
// the control plane every request succeeds; a gateway restarted during
// the outage serves from its cache at once; when the control plane is back
// a new publish reaches all three.
func TestStandaloneGatewaysUnderLoad(t *testing.T) {
	cp := startServer(t, t.TempDir())
	_, one := backend(t, "one")
	_, two := backend(t, "two")
	_, three := backend(t, "three")
	var tok struct{ Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"load gateways"}`, 201, &tok)
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"load","path":"/load"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(one)+`}`, 201, nil)

	gws := make([]*server, 3)
	caches := make([]string, 3)
	for i := range gws {
		caches[i] = t.TempDir()
		g, err := launchGateway(t, cp, "default", tok.Token, caches[i], "--poll-wait", "2s", "--heartbeat", "500ms", "--instance-id", fmt.Sprintf("load-%d", i))
		if err != nil {
			t.Fatalf("%v\n%s", err, g.out.String())
		}
		gws[i] = g
	}
	served := func(name string) func(int, []byte) bool {
		return func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"backend":"`+name+`"`) }
	}
	for _, g := range gws {
		waitFor(t, g.Gateway+"/load/x", 5*time.Second, served("one"))
	}
	waitInstances(t, cp, "all four instances report", func(r instances) bool { return r.Live == 4 && r.Applied == 4 })

	// Steady load on every gateway, each request checked; the load on a
	// gateway pauses while it is restarted.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	var firstFail atomic.Value
	// A gateway's load pauses while it is restarted: the restart sets
	// paused, then takes the write side of inFlight, which waits for a
	// request already past the check (one that would otherwise meet the
	// stopped gateway).
	var paused [3]atomic.Bool
	var inFlight [3]sync.RWMutex
	var addrs [3]atomic.Value
	for i, g := range gws {
		addrs[i].Store(g.Gateway)
		wg.Go(func() {
			for n := 0; n < 200_000 && ctx.Err() == nil; n++ {
				// Paced (a few hundred requests a second per gateway), so
				// the load leaves the machine's two cores to the processes.
				time.Sleep(2 * time.Millisecond)
				inFlight[i].RLock()
				if paused[i].Load() {
					inFlight[i].RUnlock()
					continue
				}
				st, _, body, err := get(ctx, addrs[i].Load().(string)+"/load/x")
				inFlight[i].RUnlock()
				if ctx.Err() != nil {
					return
				}
				sent.Add(1)
				if err != nil || st != 200 {
					failed.Add(1)
					firstFail.CompareAndSwap(nil, fmt.Sprintf("gateway %d: %d %s %v", i, st, body, err))
				}
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()

	// A publish is served by all three within a second, and says so.
	var pub convergenceAnswer
	cp.do(t, "POST", base+"/publish?wait=5s", `{"group":"default","version":"1.0.1","upstream":`+nodes(two)+`}`, 201, &pub)
	if pub.Convergence.Applied != 4 || pub.Convergence.Live != 4 {
		t.Errorf("publish answered %q, want applied on 4 of 4", pub.Convergence.Summary)
	}
	for _, g := range gws {
		waitFor(t, g.Gateway+"/load/x", time.Second, served("two"))
	}

	// The control plane stops; the gateways serve on. One of them is
	// restarted during the outage and serves from its cache at once.
	adminAddr := strings.TrimPrefix(cp.Admin, "http://")
	cp.stop(t)
	down := time.Now()
	paused[2].Store(true)
	inFlight[2].Lock() // the request under way, if any, ends first
	inFlight[2].Unlock()
	gws[2].stop(t)
	restarted := time.Now()
	g, err := launchGateway(t, cp, "default", tok.Token, caches[2], "--poll-wait", "2s", "--heartbeat", "500ms", "--instance-id", "load-2b")
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	if st, _, body, err := get(ctx, g.Gateway+"/load/x"); err != nil || !served("two")(st, body) {
		t.Fatalf("the restarted gateway: %d %s %v", st, body, err)
	}
	// It served from its cache while the control plane was down (the
	// ready file is written once it serves); how soon is a figure, not a
	// pass mark: a loaded CI machine starts processes slowly.
	t.Logf("the restarted gateway served from its cache %v after its start", time.Since(restarted))
	gws[2] = g
	addrs[2].Store(g.Gateway)
	paused[2].Store(false)
	// The outage lasts; the load goes on.
	select {
	case <-time.After(time.Until(down.Add(outage(t)))):
	case <-t.Context().Done():
	}
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during the outage; first: %v", n, sent.Load(), firstFail.Load())
	}

	// The control plane returns: a new publish reaches all three.
	cp2 := startServer(t, cp.DataDir, "--admin-addr", adminAddr)
	waitInstances(t, cp2, "the gateways report to the returned control plane", func(r instances) bool {
		return r.state("load-0") == "healthy" && r.state("load-1") == "healthy" && r.state("load-2b") == "healthy"
	})
	cp2.do(t, "POST", base+"/publish?wait=10s", `{"group":"default","version":"1.0.2","upstream":`+nodes(three)+`}`, 201, &pub)
	if pub.Convergence.Applied != 4 {
		var r instances
		cp2.do(t, "GET", "/api/v1/gateway-groups/default/instances", "", 200, &r)
		t.Errorf("publish after the outage answered %q, want applied on 4 live instances; instances now: %+v", pub.Convergence.Summary, r)
	}
	for _, g := range gws {
		waitFor(t, g.Gateway+"/load/x", time.Second, served("three"))
	}
	stop()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, sent.Load(), firstFail.Load())
	}
	t.Logf("%d requests over three gateways, %d failed; outage %v", sent.Load(), failed.Load(), outage(t))
}
