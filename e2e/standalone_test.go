package e2e

import (
	"github.com/portico-gw/portico/internal/spec"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitOutput waits (bounded) until the process has logged want.
func waitOutput(t *testing.T, s *server, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(s.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output within %v:\n%s", want, limit, s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStandaloneGateway: a stand-alone gateway of the control plane's
// group serves what is published; it keeps serving through a control-plane
// outage; started during one, it serves from its cache; when the control
// plane is back, the next publish reaches it. Every gateway is an
// instance of the group: healthy when it serves the group's revision,
// offline at once when it stops cleanly, lost when it dies, then offline.
// A revoked token is refused at the next poll and the gateway keeps
// serving what it has, shown as refused among the instances. The feed
// refuses tokens that are missing, unknown or of another group.
func TestStandaloneGateway(t *testing.T) {
	cp := startServer(t, t.TempDir(), "--instance-offline-after", "3s")
	_, one := backend(t, "one")
	_, two := backend(t, "two")
	var tok struct{ ID, Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"e2e gateways"}`, 201, &tok)
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"standalone","path":"/sa"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(one)+`}`, 201, nil)

	cache := t.TempDir()
	g, err := launchGateway(t, cp, "default", tok.Token, cache, "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "e2e-one")
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	served := func(s *server, name string) func(int, []byte) bool {
		return func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"backend":"`+name+`"`) }
	}
	waitFor(t, g.Gateway+"/sa/x", 5*time.Second, served(g, "one"))
	// The embedded and the stand-alone gateway are both instances of the
	// group, both serving its revision.
	waitInstances(t, cp, "both serve the revision", func(r instances) bool {
		return r.Total == 2 && r.Applied == 2 && r.state("e2e-one") == "healthy"
	})

	// The stand-alone gateway's calls reach the control plane's log
	// search, under its instance id.
	_, hdr, _, err := get(t.Context(), g.Gateway+"/sa/x")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		var page struct{ Items []spec.CallRecord }
		cp.do(t, "GET", "/api/v1/logs?request_id="+hdr.Get("X-Request-Id"), "", 200, &page)
		if len(page.Items) == 1 {
			if r := page.Items[0]; r.Instance != "e2e-one" || r.Group != "default" || r.Status != 200 {
				t.Errorf("the stand-alone gateway's call: %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stand-alone gateway's call is not in the log search")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The feed refuses a poll without a token, with an unknown one and
	// with a token of another group.
	cp.do(t, "POST", "/api/v1/gateway-groups", `{"name":"other","path_prefix":"/other"}`, 201, nil)
	var other struct{ Token string }
	cp.do(t, "POST", "/api/v1/gateway-groups/other/tokens", `{"name":"other gateways"}`, 201, &other)
	for _, c := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer ptg_unknown", 401}, {"Bearer " + cp.Token, 401}, {"Bearer " + other.Token, 403}} {
		req, _ := http.NewRequest("GET", cp.Admin+"/feed/v1/groups/default?after=0", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("feed with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}

	// The control plane stops: every request is still served.
	adminAddr := strings.TrimPrefix(cp.Admin, "http://")
	cp.stop(t)
	for i := range 50 {
		if st, _, body, err := get(t.Context(), g.Gateway+"/sa/x"); err != nil || st != 200 || !strings.Contains(string(body), `"one"`) {
			t.Fatalf("request %d during the outage: %d %s %v", i, st, body, err)
		}
	}

	// A gateway started during the outage serves from its cache.
	g.stop(t)
	g2, err := launchGateway(t, cp, "default", tok.Token, cache, "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "e2e-two")
	if err != nil {
		t.Fatalf("%v\n%s", err, g2.out.String())
	}
	if st, _, body, err := get(t.Context(), g2.Gateway+"/sa/x"); err != nil || !served(g2, "one")(st, body) {
		t.Fatalf("a gateway started from its cache: %d %s %v", st, body, err)
	}
	waitOutput(t, g2, "serving the cached snapshot", time.Second)
	if st, _, body, err := get(t.Context(), g2.Status+"/readyz"); err != nil || st != 200 || !strings.Contains(string(body), "serving cached revision") {
		t.Errorf("/readyz of a gateway serving its cache: %d %s %v", st, body, err)
	}

	// The control plane returns (same store, same address): the next
	// publish reaches the gateway.
	cp2 := startServer(t, cp.DataDir, "--admin-addr", adminAddr, "--instance-offline-after", "8s")
	// Once the gateway has polled the returned control plane, a publish
	// waits for it: its answer says the revision runs on both live
	// instances.
	waitInstances(t, cp2, "the cached gateway reports to the returned control plane", func(r instances) bool {
		return r.state("e2e-two") == "healthy"
	})
	var pub convergenceAnswer
	cp2.do(t, "POST", base+"/publish?wait=10s", `{"group":"default","version":"1.0.1","upstream":`+nodes(two)+`}`, 201, &pub)
	if c := pub.Convergence; c.Applied != 2 || c.Live != 2 {
		t.Errorf("publish convergence %+v, want applied on 2 of 2", c)
	}
	// The release history says the same of the publish's revision.
	var hist struct {
		Items []struct {
			Action      string
			Revision    int64
			Convergence *struct{ Revision, Applied, Live int64 }
		}
	}
	cp2.do(t, "GET", base+"/history?group=default&page_size=1", "", 200, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Convergence == nil || hist.Items[0].Convergence.Applied != 2 ||
		hist.Items[0].Convergence.Live != 2 || hist.Items[0].Convergence.Revision != pub.Convergence.Revision {
		t.Errorf("the publish's history entry: %+v, want its revision applied on 2 of 2", hist.Items)
	}
	waitFor(t, g2.Gateway+"/sa/x", 30*time.Second, served(g2, "two"))
	// It says so in its heartbeat: the new revision applied on every live
	// instance (the stopped one is lost or offline by now).
	waitInstances(t, cp2, "the new gateway serves the revision", func(r instances) bool {
		return r.state("e2e-two") == "healthy" && r.Applied == 2 && r.Live == 2 && r.state("e2e-one") != "healthy"
	})

	// A gateway that stops cleanly says goodbye: offline at once, and no
	// longer counted live.
	g2.stop(t)
	waitInstances(t, cp2, "the stopped gateway is offline", func(r instances) bool {
		return r.state("e2e-two") == "offline" && r.state("e2e-one") != "healthy" && r.Live == 1
	})

	// A gateway that dies (kill -9) is lost after three missed
	// heartbeats, then offline (here after 8 s).
	g3, err := launchGateway(t, cp2, "default", tok.Token, cache, "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "e2e-three")
	if err != nil {
		t.Fatalf("%v\n%s", err, g3.out.String())
	}
	waitInstances(t, cp2, "the third gateway is healthy", func(r instances) bool { return r.state("e2e-three") == "healthy" })
	g3.kill(t)
	waitInstances(t, cp2, "the killed gateway is lost", func(r instances) bool { return r.state("e2e-three") == "lost" })
	waitInstances(t, cp2, "the killed gateway is offline", func(r instances) bool { return r.state("e2e-three") == "offline" })

	// Revoked: refused at the next poll, and the gateway keeps serving.
	g4, err := launchGateway(t, cp2, "default", tok.Token, cache, "--poll-wait", "1s", "--heartbeat", "200ms", "--instance-id", "e2e-four")
	if err != nil {
		t.Fatalf("%v\n%s", err, g4.out.String())
	}
	waitInstances(t, cp2, "the fourth gateway is healthy", func(r instances) bool { return r.state("e2e-four") == "healthy" })
	cp2.do(t, "DELETE", "/api/v1/gateway-groups/default/tokens/"+tok.ID, "", 204, nil)
	waitOutput(t, g4, "refused this gateway's token", 10*time.Second)
	// It shows as refused, not among the live instances.
	waitInstances(t, cp2, "the revoked gateway shows as refused", func(r instances) bool {
		return r.state("e2e-four") == "refused" && r.Live == 1
	})
	if st, _, body, err := get(t.Context(), g4.Gateway+"/sa/x"); err != nil || !served(g4, "two")(st, body) {
		t.Fatalf("after the revoke: %d %s %v", st, body, err)
	}
}

// instances is GET /gateway-groups/{g}/instances.
type instances struct {
	Items []struct {
		ID, State string
		Embedded  bool
		Revision  int64
	}
	Total, Applied, Live int
	Revision             int64
}

func (r instances) state(id string) string {
	for _, in := range r.Items {
		if in.ID == id {
			return in.State
		}
	}
	return ""
}

// waitInstances polls the default group's instances (bounded) until ok.
func waitInstances(t *testing.T, cp *server, what string, ok func(instances) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var r instances
		cp.do(t, "GET", "/api/v1/gateway-groups/default/instances", "", 200, &r)
		if ok(r) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s; instances: %+v", what, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
