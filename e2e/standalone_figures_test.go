package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStandaloneFiguresReachTheControlPlane: a canary whose only traffic
// goes through a stand-alone gateway is judged on that traffic — the
// gateway's heartbeats carry its canary and per-service figures, the
// control plane adds them up with its embedded gateway's, and the guard
// cancels a target that answers 500. The service's stats count the same
// requests.
func TestStandaloneFiguresReachTheControlPlane(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	var tok struct{ Token string }
	s.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"figures"}`, 201, &tok)
	g, err := launchGateway(t, s, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "figures-one")
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	answersFrom(t, g.Gateway+"/products", "current", "/products")
	guardCancelsThrough(t, s, base, g)
	statsCountThrough(t, s, base)
}

// TestCanaryGuardAcrossControlPlanes: two control planes on one
// PostgreSQL database. The only traffic goes through a stand-alone
// gateway that reports to the second. The canary guard runs on one of
// them (the first, as a rule: it started first and takes the job); the
// first's service stats count the requests, which it can only have
// heard of through the store's figures log.
func TestCanaryGuardAcrossControlPlanes(t *testing.T) {
	_, _, dsn := newDatabase(t, "postgres")
	a := startServer(t, t.TempDir(), "--store", dsn)
	b := startServer(t, replicaDir(t, a), "--store", dsn)
	base, _, _ := canarySetupOn(t, a)
	var tok struct{ Token string }
	a.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"reports to b"}`, 201, &tok)
	g, err := launchGateway(t, b, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "reports-to-b")
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	answersFrom(t, g.Gateway+"/products", "current", "/products")
	guardCancelsThrough(t, a, base, g)
	statsCountThrough(t, a, base)
}

// guardCancelsThrough starts a canary to a target answering 500 and
// sends requests only to gateway g until the guard cancels it: the
// control plane's embedded gateway sees none, so a guard that trips
// heard from g.
func guardCancelsThrough(t *testing.T, s *server, base string, g *server) {
	t.Helper()
	bad := failingBackend(t, 500)
	var task canaryTask
	s.do(t, "POST", base+"/canary", fmt.Sprintf(`{"group":"default","weight":50,
		"target":{"upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}},
		"guard":{"max_error_rate":0.2,"min_requests":20,"window":"30s"}}`, bad), 201, &task)
	deadline := time.Now().Add(15 * time.Second)
	sent := 0
	for task.State == "running" && time.Now().Before(deadline) && sent < 20_000 {
		for range 20 {
			get(context.Background(), g.Gateway+"/products")
			sent++
		}
		s.do(t, "GET", base+"/canary/"+task.ID, "", 200, &task)
	}
	if task.State != "cancelled" || !strings.Contains(task.Reason, "error rate") {
		t.Fatalf("task after %d requests to the stand-alone gateway = %+v, want cancelled by the guard", sent, task)
	}
}

// statsCountThrough: the service's stats on s count the requests sent
// through a stand-alone gateway, errors included.
func statsCountThrough(t *testing.T, s *server, base string) {
	t.Helper()
	var stats struct {
		Serving bool
		Total   struct{ Requests, Errors uint64 }
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.do(t, "GET", base+"/stats?group=default&window=5m", "", 200, &stats)
		// The 20 requests of answersFrom and the canary's, at least the
		// ones reported by the time of the guard's decision.
		if stats.Serving && stats.Total.Requests >= 20 && stats.Total.Errors > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service stats %+v: the stand-alone gateway's requests are not counted", stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
