package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/demobackend"
)

// TestPublishFlow runs the README's quick tour with curl: login, service, route,
// publish, then a request through the gateway answered by the backend.
func TestPublishFlow(t *testing.T) {
	demo := httptest.NewServer(demobackend.Handler())
	defer demo.Close()
	port := demo.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]

	s := startServer(t, t.TempDir())
	t.Logf("ready %v after exec", s.StartedIn)

	var svc struct{ ID, State string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"httpbin","protocols":["http"]}`, 201, &svc)
	if svc.ID == "" || svc.State != "draft" {
		t.Fatalf("created service = %+v, want an id and state draft", svc)
	}
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/routes",
		`{"name":"getting-started-anything","paths":["/anything/*"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish",
		`{"group":"default","version":"1.0.0",
		  "upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":`+port+`,"weight":100}]}}`, 201, nil)

	live := waitFor(t, s.Gateway+"/anything/publish", 2*time.Second, func(st int, _ []byte) bool { return st == 200 })
	t.Logf("publish live after %v", live)
	status, hdr, body, err := get(context.Background(), s.Gateway+"/anything/publish")
	if err != nil || status != 200 {
		t.Fatalf("GET /anything/publish = %d %s %v", status, body, err)
	}
	var echo struct {
		Method  string
		URL     string
		Headers map[string]string
	}
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("backend answer %s: %v", body, err)
	}
	if echo.Method != "GET" || !strings.HasSuffix(echo.URL, "/anything/publish") {
		t.Errorf("backend saw %s %s, want GET …/anything/publish", echo.Method, echo.URL)
	}
	if echo.Headers["X-Forwarded-Host"] == "" || echo.Headers["X-Forwarded-For"] == "" {
		t.Errorf("backend headers %v lack X-Forwarded-Host/-For", echo.Headers)
	}
	if hdr.Get("X-Request-Id") == "" {
		t.Error("gateway answer has no X-Request-Id")
	}

	// A POST is not routed (the route allows GET only): JSON 405.
	resp, err := httpPost(s.Gateway + "/anything/publish")
	if err != nil || resp.status != 405 || !strings.Contains(resp.body, `"error"`) {
		t.Errorf("POST on a GET route = %+v %v, want JSON 405", resp, err)
	}
	// Nothing answers elsewhere: JSON 404 with a request id.
	status, hdr, body, _ = get(context.Background(), s.Gateway+"/nothing-here")
	if status != 404 || hdr.Get("X-Request-Id") == "" || !strings.Contains(string(body), `"route_not_found"`) && !strings.Contains(string(body), `"error"`) {
		t.Errorf("unknown path = %d %s", status, body)
	}

	// The group lists what runs there, with its version.
	b := s.do(t, "GET", "/api/v1/gateway-groups/default/services", "", 200, nil)
	if !strings.Contains(string(b), `"1.0.0"`) || !strings.Contains(string(b), `httpbin`) {
		t.Errorf("group services = %s, want httpbin 1.0.0", b)
	}
	// Versions are immutable: the same version string again is a conflict.
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(1)+`}`, 409, nil)
}

// TestPublishRollback publishes two versions with different routes, rolls
// back and checks the gateway serves the first again and history says so.
func TestPublishRollback(t *testing.T) {
	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	s := startServer(t, t.TempDir())
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"orders"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	var route struct{ ID string }
	s.do(t, "POST", base+"/routes", `{"name":"v1","paths":["/v1/*"]}`, 201, &route)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(portA)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/v1/x", 2*time.Second, func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"A"`) })

	// Version 2 moves the route to /v2 and the upstream to B.
	s.do(t, "PATCH", base+"/routes/"+route.ID, `{"paths":["/v2/*"]}`, 200, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"2.0.0","upstream":`+nodes(portB)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/v2/x", 2*time.Second, func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"B"`) })
	waitFor(t, s.Gateway+"/v1/x", 2*time.Second, func(st int, _ []byte) bool { return st == 404 })

	// Rollback keeps the group's current upstream (B) and restores 1.0.0's routes.
	s.do(t, "POST", base+"/rollback", `{"group":"default","version":"1.0.0"}`, 200, nil)
	waitFor(t, s.Gateway+"/v1/x", 2*time.Second, func(st int, b []byte) bool { return st == 200 })
	waitFor(t, s.Gateway+"/v2/x", 2*time.Second, func(st int, _ []byte) bool { return st == 404 })
	s.do(t, "POST", base+"/rollback", `{"group":"default","version":"1.0.0"}`, 409, nil)
	s.do(t, "POST", base+"/rollback", `{"group":"default","version":"9.9.9"}`, 404, nil)

	var hist struct {
		Items []struct {
			Action      string `json:"action"`
			Version     string `json:"version"`
			FromVersion string `json:"from_version"`
		} `json:"items"`
		Total int
	}
	s.do(t, "GET", base+"/history", "", 200, &hist)
	var got []string
	for _, e := range hist.Items {
		got = append(got, e.Action+":"+e.Version)
	}
	want := "rollback:1.0.0 publish:2.0.0 publish:1.0.0"
	if strings.Join(got, " ") != want {
		t.Errorf("history = %v, want %s (newest first)", got, want)
	}
	var vers struct{ Total int }
	s.do(t, "GET", base+"/versions", "", 200, &vers)
	if vers.Total != 2 {
		t.Errorf("versions total = %d, want 2", vers.Total)
	}
}

// TestPublishesUnderLoad publishes 12 versions while 8 clients send
// requests: no request may fail while snapshots are swapped, and each
// publish is live in under a second.
func TestPublishesUnderLoad(t *testing.T) {
	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	s := startServer(t, t.TempDir())
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"load"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"any","paths":["/load/*"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(portA)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/load/x", 2*time.Second, func(st int, _ []byte) bool { return st == 200 })

	ctx, cancel := context.WithCancel(context.Background())
	var total, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil && total.Load() < 1_000_000 {
				st, _, b, err := get(context.Background(), s.Gateway+"/load/x")
				total.Add(1)
				if err != nil || st != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", st, b, err))
				}
			}
		})
	}
	var slowest time.Duration
	for i := 1; i <= 12; i++ {
		port, name := portA, "A"
		if i%2 == 1 {
			port, name = portB, "B"
		}
		s.do(t, "POST", base+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.%d","upstream":%s}`, i, nodes(port)), 201, nil)
		d := waitFor(t, s.Gateway+"/load/x", time.Second, func(st int, b []byte) bool {
			return st == 200 && strings.Contains(string(b), `"`+name+`"`)
		})
		slowest = max(slowest, d)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	t.Logf("%d requests during 12 publishes, %d failed; slowest publish live after %v", total.Load(), failed.Load(), slowest)
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during publishes; first: %v", failed.Load(), total.Load(), firstErr.Load())
	}
	if total.Load() < 100 {
		t.Errorf("only %d requests were sent; the load loop did not run", total.Load())
	}
}

// TestRestartServesLastVersion stops the server and starts it again on the
// same data dir: the last published version is served at once.
func TestRestartServesLastVersion(t *testing.T) {
	_, port := backend(t, "A")
	dir := t.TempDir()
	s := startServer(t, dir)
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"keep"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"keep","paths":["/keep"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"3.1.4","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/keep", 2*time.Second, func(st int, _ []byte) bool { return st == 200 })
	s.stop(t)

	s2 := startServer(t, dir)
	st, _, b, err := get(context.Background(), s2.Gateway+"/keep")
	if err != nil || st != 200 || !strings.Contains(string(b), `"A"`) {
		t.Fatalf("after restart GET /keep = %d %s %v, want 200 from A", st, b, err)
	}
	// The generated password is printed only on a fresh store; with
	// PORTICO_ADMIN_PASSWORD set it is never printed.
	if strings.Contains(s2.out.String(), "First start") {
		t.Errorf("restart printed a first-start message:\n%s", s2.out.String())
	}
}
