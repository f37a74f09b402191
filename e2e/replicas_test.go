package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestTwoControlPlanesOnPostgres: two control planes share one PostgreSQL
// database. A publish on one is served by a stand-alone gateway fed by
// the other, and by the other's embedded gateway: the commit's
// notification wakes the other control plane's waiting polls.
func TestTwoControlPlanesOnPostgres(t *testing.T) {
	_, _, dsn := newDatabase(t, "postgres")
	a := startServer(t, t.TempDir(), "--store", dsn)
	b := startServer(t, t.TempDir(), "--store", dsn)
	var tok struct{ Token string }
	a.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"fed by b"}`, 201, &tok)
	g, err := launchGateway(t, b, "default", tok.Token, t.TempDir(), "--poll-wait", "30s", "--heartbeat", "200ms", "--instance-id", "fed-by-b")
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
}
