package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// canaryTask is the part of a canary task the tests read.
type canaryTask struct {
	ID, State, Reason string
	Weight            int
	PromotedVersion   string `json:"promoted_version"`
	Revision          int64
	Figures           []struct {
		Window          string
		Current, Target struct {
			Requests  uint64
			Errors    uint64
			ErrorRate float64 `json:"error_rate"`
			P50       float64 `json:"p50_ms"`
			P95       float64 `json:"p95_ms"`
			P99       float64 `json:"p99_ms"`
		}
	}
}

// waitApplied waits until the embedded gateway serves revision rev.
func (s *server) waitApplied(t *testing.T, rev int64) {
	t.Helper()
	waitFor(t, s.Status+"/readyz", 5*time.Second, func(st int, body []byte) bool {
		var r struct{ Revision int64 }
		return st == 200 && json.Unmarshal(body, &r) == nil && r.Revision >= rev
	})
}

// share sends n requests to url and answers the fraction the named
// backend answered; any failed request fails the test.
func share(t *testing.T, url, name string, n int, header http.Header) float64 {
	t.Helper()
	hits := 0
	for i := range n {
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var echo struct{ Backend string }
		err = json.NewDecoder(resp.Body).Decode(&echo)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("request %d: status %d, %v", i, resp.StatusCode, err)
		}
		if echo.Backend == name {
			hits++
		}
	}
	return float64(hits) / float64(n)
}

// failingBackend answers every request with status.
func failingBackend(t *testing.T, status int) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, `{"backend":"failing"}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// canarySetup sets up a canary release: upstream shop_server, a new upstream for the
// new feature, and the shop service with create_product on /products,
// published to the default group.
func canarySetup(t *testing.T) (s *server, base string, portCur, portNew int) {
	s = startServer(t, t.TempDir())
	base, portCur, portNew = canarySetupOn(t, s)
	return s, base, portCur, portNew
}

// canarySetupOn is canarySetup on a running control plane.
func canarySetupOn(t *testing.T, s *server) (base string, portCur, portNew int) {
	t.Helper()
	_, portCur = backend(t, "current")
	_, portNew = backend(t, "new")
	up := "/api/v1/projects/default/upstreams"
	s.do(t, "POST", up, fmt.Sprintf(`{"name":"shop_server","scheme":"http","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}`, portCur), 201, nil)
	s.do(t, "POST", up, fmt.Sprintf(`{"name":"shop_server_new","scheme":"http","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}`, portNew), 201, nil)
	base = "/api/v1/projects/default/services/shop"
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shop","upstream_id":"shop_server"}`, 201, nil)
	s.do(t, "POST", base+"/routes", `{"name":"create_product","paths":["/products"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", base+"/routes", `{"name":"list_orders","paths":["/orders"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0"}`, 201, nil)
	answersFrom(t, s.Gateway+"/products", "current", "/products")
	return base, portCur, portNew
}

func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if got < want-0.025 || got > want+0.025 {
		t.Errorf("%s: %.1f%% reached the target, want %.0f%% ± 2.5 points", what, 100*got, 100*want)
	} else {
		t.Logf("%s: %.2f%% reached the target", what, 100*got)
	}
}

// TestCanaryPromote is a canary release (灰度发布): 10 % of 发布产品 to the
// new upstream, raised to 20 %, then 全量发布 (promote): the new upstream
// takes everything, a new version is recorded, the task is completed and
// frozen.
func TestCanaryPromote(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	var task canaryTask
	s.do(t, "POST", base+"/canary", `{"group":"default","name":"产品发布新功能灰度","target":{"upstream_id":"shop_server_new"},"weight":10,"routes":["create_product"]}`, 201, &task)
	if task.State != "running" || task.Weight != 10 || task.ID == "" {
		t.Fatalf("created task = %+v", task)
	}
	s.waitApplied(t, task.Revision)
	if d := s.problemDetail(t, "POST", base+"/canary", `{"group":"default","target":{"upstream_id":"shop_server_new"},"weight":50}`, 409); !strings.Contains(d, task.ID) {
		t.Errorf("second running canary: detail %q does not name the running one", d)
	}
	if d := s.problemDetail(t, "POST", base+"/publish", `{"group":"default","version":"1.0.9"}`, 409); !strings.Contains(d, "canary") {
		t.Errorf("publish under a running canary: detail %q", d)
	}

	within(t, "weight 10", share(t, s.Gateway+"/products", "new", 3000, nil), 0.10)
	if got := share(t, s.Gateway+"/orders", "new", 200, nil); got != 0 {
		t.Errorf("list_orders is not in the canary's routes but %.0f%% reached the target", 100*got)
	}

	s.do(t, "PATCH", base+"/canary/"+task.ID, `{"weight":20}`, 200, &task)
	s.waitApplied(t, task.Revision)
	within(t, "weight 20", share(t, s.Gateway+"/products", "new", 3000, nil), 0.20)

	// The figures a provider decides on.
	var listed struct {
		Items []canaryTask
		Total int
	}
	s.do(t, "GET", base+"/canary", "", 200, &listed)
	if listed.Total != 1 || len(listed.Items[0].Figures) != 3 {
		t.Fatalf("GET canary = %+v", listed)
	}
	f := listed.Items[0].Figures[0]
	if f.Window != "1m0s" || f.Target.Requests < 900 || f.Current.Requests < 4000 || f.Target.Errors != 0 ||
		f.Target.P50 <= 0 || f.Target.P99 < f.Target.P50 || f.Current.P99 <= 0 {
		t.Errorf("1-minute figures = %+v", f)
	}

	s.do(t, "POST", base+"/canary/"+task.ID+"/promote", "", 200, &task)
	if task.State != "completed" || task.PromotedVersion != "1.0.1" {
		t.Fatalf("promoted task = %+v, want completed with version 1.0.1", task)
	}
	s.waitApplied(t, task.Revision)
	if got := share(t, s.Gateway+"/products", "new", 200, nil); got != 1 {
		t.Errorf("after promote %.0f%% reached the new upstream, want all", 100*got)
	}
	s.refusedCanary(t, "PATCH", base+"/canary/"+task.ID, `{"weight":30}`)
	s.refusedCanary(t, "POST", base+"/canary/"+task.ID+"/cancel", "")

	var hist struct {
		Items []struct{ Action, Version, Detail string }
	}
	s.do(t, "GET", base+"/history", "", 200, &hist)
	var actions []string
	for _, e := range hist.Items {
		actions = append(actions, e.Action+"@"+e.Version)
	}
	if got := strings.Join(actions, " "); got != "canary.promote@1.0.1 canary.update@1.0.0 canary.create@1.0.0 publish@1.0.0" {
		t.Errorf("history = %s", got)
	}
	var running struct{ Items []struct{ Version string } }
	s.do(t, "GET", "/api/v1/gateway-groups/default/services", "", 200, &running)
	if len(running.Items) != 1 || running.Items[0].Version != "1.0.1" {
		t.Errorf("group runs %+v, want shop 1.0.1", running.Items)
	}
}

func (s *server) refusedCanary(t *testing.T, method, path, body string) {
	t.Helper()
	if d := s.problemDetail(t, method, path, body, 409); !strings.Contains(d, "completed") {
		t.Errorf("%s %s on a completed task: detail %q", method, path, d)
	}
}

// TestCanaryCancel: 10 % then 取消任务: all traffic is back on the
// current upstream within a second; a header rule sends every matching
// request to the target whatever the weight.
func TestCanaryCancel(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	var task canaryTask
	s.do(t, "POST", base+"/canary", `{"group":"default","target":{"upstream_id":"shop_server_new"},"weight":10,
		"rules":[{"kind":"header","name":"X-Canary","value":"on"}]}`, 201, &task)
	s.waitApplied(t, task.Revision)
	within(t, "weight 10", share(t, s.Gateway+"/products", "new", 3000, nil), 0.10)
	if got := share(t, s.Gateway+"/products", "new", 300, http.Header{"X-Canary": {"on"}}); got != 1 {
		t.Errorf("header rule: %.0f%% of matching requests reached the target, want all", 100*got)
	}

	start := time.Now()
	s.do(t, "POST", base+"/canary/"+task.ID+"/cancel", "", 200, &task)
	if task.State != "cancelled" || !strings.Contains(task.Reason, "admin") {
		t.Fatalf("cancelled task = %+v", task)
	}
	s.waitApplied(t, task.Revision)
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancel took %v to reach the gateway, want within 1s", took)
	}
	if got := share(t, s.Gateway+"/products", "new", 300, http.Header{"X-Canary": {"on"}}); got != 0 {
		t.Errorf("after cancel %.0f%% reached the target", 100*got)
	}
	if len(task.Figures) != 3 || task.Figures[0].Target.Requests < 300 {
		t.Errorf("a cancelled task keeps its last figures: %+v", task.Figures)
	}
	// A new task may start once the old one ended.
	s.do(t, "POST", base+"/canary", `{"group":"default","target":{"upstream_id":"shop_server_new"},"weight":5}`, 201, nil)
}

// TestCanaryWeightChangesUnderLoad: six clients call while the weight
// moves from 0 to 100 and back; no request fails.
func TestCanaryWeightChangesUnderLoad(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	var task canaryTask
	s.do(t, "POST", base+"/canary", `{"group":"default","target":{"upstream_id":"shop_server_new"},"weight":0}`, 201, &task)
	s.waitApplied(t, task.Revision)
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	var ok, failed, sawNew atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for i := 0; i < 5000 && ctx.Err() == nil; i++ {
				st, _, body, err := get(ctx, s.Gateway+"/products")
				switch {
				case ctx.Err() != nil:
				case err != nil || st != 200:
					failed.Add(1)
					t.Errorf("request failed during weight changes: %d %s %v", st, body, err)
				default:
					ok.Add(1)
					if strings.Contains(string(body), `"new"`) {
						sawNew.Add(1)
					}
				}
			}
		})
	}
	for _, w := range []int{10, 30, 50, 70, 90, 100, 60, 20, 0, 40} {
		s.do(t, "PATCH", base+"/canary/"+task.ID, fmt.Sprintf(`{"weight":%d}`, w), 200, nil)
		time.Sleep(150 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if failed.Load() != 0 || ok.Load() < 100 || sawNew.Load() == 0 {
		t.Errorf("%d ok, %d failed, %d reached the target", ok.Load(), failed.Load(), sawNew.Load())
	}
}

// TestCanaryGuard: a target that answers 500 trips the guard, which
// cancels the task and says why, in the task and the history.
func TestCanaryGuard(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	bad := failingBackend(t, 500)
	var task canaryTask
	s.do(t, "POST", base+"/canary", fmt.Sprintf(`{"group":"default","weight":50,
		"target":{"upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}},
		"guard":{"max_error_rate":0.2,"min_requests":20,"window":"30s"}}`, bad), 201, &task)
	s.waitApplied(t, task.Revision)
	deadline := time.Now().Add(10 * time.Second)
	for task.State == "running" && time.Now().Before(deadline) {
		for range 20 {
			get(context.Background(), s.Gateway+"/products")
		}
		s.do(t, "GET", base+"/canary/"+task.ID, "", 200, &task)
	}
	if task.State != "cancelled" || !strings.Contains(task.Reason, "error rate") {
		t.Fatalf("task after 500s = %+v, want cancelled by the guard", task)
	}
	var hist struct {
		Items []struct{ Action, Actor, Detail string }
	}
	s.do(t, "GET", base+"/history", "", 200, &hist)
	if e := hist.Items[0]; e.Action != "canary.cancel" || e.Actor != "canary-guard" || !strings.Contains(e.Detail, "guard") {
		t.Errorf("latest history entry = %+v", e)
	}
	// The gateway has the cancellation once it applied the group's
	// revision (one answer of 200 proves nothing: half went to the
	// current side before too).
	var group struct{ Revision int64 }
	s.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &group)
	s.waitApplied(t, group.Revision)
	if got := share(t, s.Gateway+"/products", "current", 100, nil); got != 1 {
		t.Errorf("after the guard cancelled, %.0f%% reached the current upstream", 100*got)
	}
}

// TestCanaryNodesToDiscovery: a published service switches
// from nodes to service discovery only through a canary.
func TestCanaryNodesToDiscovery(t *testing.T) {
	s, base, _, _ := canarySetup(t)
	// The registry the discovered upstream names: the group must have it
	// (nothing answers at its address; a weight of 0 sends nothing there).
	s.do(t, "POST", "/api/v1/gateway-groups/default/registries",
		`{"name":"registry-for-test","type":"kubernetes","address":"http://127.0.0.1:1"}`, 201, nil)
	disc := `{"discovery":{"registry":"registry-for-test","service_name":"httpbin","namespace":"default"}}`
	if d := s.problemDetail(t, "POST", base+"/publish", `{"group":"default","version":"1.1.0","upstream":`+disc+`}`, 409); !strings.Contains(d, "canary") {
		t.Errorf("direct switch: detail %q does not point to a canary", d)
	}
	var task canaryTask
	s.do(t, "POST", base+"/canary", `{"group":"default","weight":0,"target":{"upstream":`+disc+`}}`, 201, &task)
	if task.State != "running" {
		t.Fatalf("canary to discovery = %+v", task)
	}
	s.do(t, "POST", base+"/canary/"+task.ID+"/promote", `{"version":"2.0.0"}`, 200, &task)
	if task.PromotedVersion != "2.0.0" {
		t.Errorf("promoted version %q, want 2.0.0", task.PromotedVersion)
	}
	// It now runs on discovery: back to nodes is again a canary's job.
	_, port := backend(t, "B")
	if d := s.problemDetail(t, "POST", base+"/publish", `{"group":"default","version":"2.1.0","upstream":`+nodes(port)+`}`, 409); !strings.Contains(d, "service discovery") {
		t.Errorf("switch back: detail %q", d)
	}
}
