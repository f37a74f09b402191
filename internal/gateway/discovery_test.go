package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// eurekaApp answers a Eureka application with one instance per port.
func eurekaApp(t *testing.T, ports *atomic.Value, asks *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asks.Add(1)
		var inst []string
		for _, p := range ports.Load().([]int) {
			inst = append(inst, fmt.Sprintf(`{"ipAddr":"127.0.0.1","status":"UP","port":{"$":%d,"@enabled":"true"}}`, p))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"application":{"name":"ORDERS","instance":[%s]}}`, joinComma(inst))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// The discoverer follows a service once for every pool that names it,
// reports how the registry answers per group, and stops following once no
// pool holds the list any more.
func TestDiscoverer(t *testing.T) {
	var ports atomic.Value
	ports.Store([]int{8081})
	var asks atomic.Int64
	srv := eurekaApp(t, &ports, &asks)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := newDiscoverer(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	reg := &spec.Registry{Name: "eureka", Type: "eureka", Address: srv.URL + "/eureka", PollInterval: 1}
	found := d.Found("g", reg, spec.Discovery{Registry: "eureka", ServiceName: "ORDERS"})
	if again := d.Found("g", reg, spec.Discovery{Registry: "eureka", ServiceName: "ORDERS"}); again != found {
		t.Fatal("a second pool of the same service got another list")
	}
	if other := d.Found("g", reg, spec.Discovery{Registry: "eureka", ServiceName: "BILLING"}); other == found {
		t.Fatal("another service shares the list")
	}
	waitFound := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			nodes, _ := found.Nodes()
			if len(nodes) == 1 && nodes[0].Port == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("nodes %v, want port %d", nodes, want)
			}
			time.Sleep(10 * time.Millisecond) // the follower's poll
		}
	}
	waitFound(8081)
	ports.Store([]int{8082})
	waitFound(8082)
	st := d.Statuses()["g"]
	if len(st) != 1 || st[0].Registry != "eureka" || st[0].Services != 2 || st[0].LastSync.IsZero() {
		t.Fatalf("statuses %+v", st)
	}
	// No pool holds the lists any more: the followers stop.
	found = nil
	for range 200 {
		runtime.GC()
		if len(d.Statuses()["g"]) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // the collector, awaited
	}
	if st := d.Statuses()["g"]; len(st) != 0 {
		t.Fatalf("followers of lists no pool holds are still listed: %+v", st)
	}
	before := asks.Load()
	time.Sleep(2500 * time.Millisecond) // two poll intervals without an ask
	if n := asks.Load() - before; n > 2 {
		t.Errorf("the registry was asked %d times after its lists were dropped", n)
	}
}
