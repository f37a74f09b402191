package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/demobackend"
)

// TestLifecycleSurvivesKill runs a burst of lifecycle actions and template
// edits from several goroutines, kills the server with SIGKILL in the
// middle of it, restarts it on the same data directory and checks that
// every action either fully happened or not at all: each service's state
// matches what runs where, every action's history is complete, and the
// gateway serves exactly the versions the store says.
func TestLifecycleSurvivesKill(t *testing.T) {
	demo := httptest.NewServer(demobackend.Handler())
	defer demo.Close()
	demoPort := demo.Listener.Addr().String()[strings.LastIndex(demo.Listener.Addr().String(), ":")+1:]
	dir := t.TempDir()
	s := lifecycleServer(t, dir)

	const services, workers = 6, 6
	ids := make([]string, services)
	for i := range ids {
		var svc struct{ ID string }
		s.do(t, "POST", "/api/v1/projects/shop/services", fmt.Sprintf(`{"name":"svc%d","path":"/s%d",
			"upstream":{"nodes":[{"host":"127.0.0.1","port":%s}]},
			"routes":[{"name":"user_info","backend":{"path":"/anything/svc%d"}}]}`, i, i, demoPort, i), 201, &svc)
		ids[i] = svc.ID
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	var done, edits atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			actions := []string{"submit", "withdraw", "publish", "republish", "disable", "enable", "edit"}
			for ctx.Err() == nil {
				i := rnd.IntN(services)
				method, path, body := "POST", "/api/v1/projects/shop/services/"+ids[i]+"/actions/", ""
				if a := actions[rnd.IntN(len(actions))]; a == "edit" {
					method, path = "PATCH", "/api/v1/projects/shop/services/"+ids[i]+"/routes/user_info"
					body = fmt.Sprintf(`{"backend":{"path":"/anything/svc%d/e%d"}}`, i, edits.Add(1))
				} else {
					path += a
				}
				req, _ := http.NewRequestWithContext(ctx, method, s.Admin+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+s.Token)
				resp, err := client.Do(req)
				if err != nil {
					continue // the server is gone, or we are stopping
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					done.Add(1)
				}
			}
		})
	}
	// Kill once the burst is well under way.
	deadline := time.Now().Add(30 * time.Second)
	for done.Load() < 150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-s.exited
	s.exited <- err
	cancel()
	wg.Wait()
	t.Logf("killed after %d successful actions (%v)", done.Load(), err)
	if done.Load() < 150 {
		t.Fatalf("only %d actions succeeded within 30s", done.Load())
	}

	s = startServer(t, dir, "--group", "test", "--group", "production")
	for i, id := range ids {
		checkConsistent(t, s, fmt.Sprintf("svc%d", i), id, fmt.Sprintf("/s%d/user_info", i))
	}
}

// checkConsistent checks one service after a crash: state against
// deployments, history completeness, and what the gateway serves.
func checkConsistent(t *testing.T, s *server, name, id, path string) {
	t.Helper()
	S := "/api/v1/projects/shop/services/" + id
	var svc struct{ State string }
	s.do(t, "GET", S, "", 200, &svc)
	var versions struct {
		Items []struct {
			Version string
			Groups  []string
			Service struct {
				Routes []struct{ Backend struct{ Path string } }
			}
		}
	}
	s.do(t, "GET", S+"/versions?page_size=500", "", 200, &versions)
	running, backendPath := map[string]string{}, map[string]string{}
	for _, v := range versions.Items {
		for _, g := range v.Groups {
			running[g] = v.Version
		}
		backendPath[v.Version] = v.Service.Routes[0].Backend.Path
	}
	_, inTest := running["test"]
	_, inProd := running["production"]
	want := map[string][2]bool{"draft": {false, false}, "submitted": {true, false}, "published": {true, true}, "disabled": {false, false}}
	if w, ok := want[svc.State]; !ok || w != [2]bool{inTest, inProd} {
		t.Errorf("%s is %q but runs %v", name, svc.State, running)
	}

	var hist struct {
		Items []struct {
			Group, Action, Version, Detail string
		}
		Total int
	}
	s.do(t, "GET", S+"/history?page_size=500", "", 200, &hist)
	if hist.Total > len(hist.Items) {
		t.Fatalf("%s: %d history events, more than a page", name, hist.Total)
	}
	type op struct {
		parts, seen int
		state       string
	}
	ops := map[string]*op{}
	lastState := "draft"
	lastVersion := map[string]string{} // group → to-version of its newest event
	for i, e := range hist.Items {     // newest first
		var d struct {
			Op          string
			Part, Parts int
			State       string
		}
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || d.Op == "" {
			t.Errorf("%s: history event %+v has no lifecycle detail", name, e)
			continue
		}
		if ops[d.Op] == nil {
			ops[d.Op] = &op{parts: d.Parts, state: d.State}
		}
		ops[d.Op].seen++
		if i == 0 {
			lastState = d.State
		}
		if _, ok := lastVersion[e.Group]; !ok {
			lastVersion[e.Group] = e.Version
		}
	}
	for id, o := range ops {
		if o.seen != o.parts {
			t.Errorf("%s: action %s recorded %d of its %d history events", name, id, o.seen, o.parts)
		}
	}
	if lastState != svc.State {
		t.Errorf("%s: state %q, but its last recorded action led to %q", name, svc.State, lastState)
	}
	for _, g := range []string{"test", "production"} {
		if lastVersion[g] != running[g] {
			t.Errorf("%s: runs %q in %s, but its history there ends at %q", name, running[g], g, lastVersion[g])
		}
	}

	// The gateway serves exactly that: each running version's own backend path.
	urls := map[string]string{"test": s.Gateway + "/api/gateway/test/shop" + path, "production": s.Gateway + "/api/gateway" + path}
	for g, url := range urls {
		v, ok := running[g]
		want := ""
		if ok {
			want = backendPath[v]
		}
		serves(t, url, want)
	}
	t.Logf("%s: %s, runs %v, %d events in %d actions", name, svc.State, running, len(hist.Items), len(ops))
}
