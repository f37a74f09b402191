package limitcount

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// fallbacks records OnFallback calls.
type fallbacks struct {
	mu      sync.Mutex
	reasons map[string]int
}

func (f *fallbacks) record(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reasons == nil {
		f.reasons = map[string]int{}
	}
	f.reasons[reason]++
}

func (f *fallbacks) count(reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reasons[reason]
}

// gatewayOn is one gateway's registry counting in the Redis at addr.
func gatewayOn(t *testing.T, addr, prefix string, fb *fallbacks) *Registry {
	t.Helper()
	r, err := NewRedis("redis://"+addr, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	reg := NewRegistry()
	reg.UseRemote(RemoteOptions{Remote: r, OnFallback: fb.record})
	return reg
}

// sendRoute runs one request of route r (group g, project p, service s).
func sendRoute(f timed, addr string) (bool, *plugintest.Backing) {
	return send(f, addr, func(b *plugintest.Backing, ex *plugin.Exchange) {
		ex.Reset(b, "req", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "g", ProjectID: "p", ServiceName: "s"}, RouteName: "r", RouteID: "id-differs"}, nil)
	})
}

func TestRedisSharedAcrossGateways(t *testing.T) {
	mr := miniredis.RunT(t)
	var fb fallbacks
	cfg := Config{Count: 3, TimeWindow: 60, Key: "remote_addr", Policy: "redis"}
	c := &clock{t: time.Unix(1_000_020, 0)}
	// Two gateways, each with its own registry and route id: one quota.
	a := newFilterScope(t, cfg, gatewayOn(t, mr.Addr(), "t1:", &fb), c, "g|route:id-a")
	b := newFilterScope(t, cfg, gatewayOn(t, mr.Addr(), "t1:", &fb), c, "g|route:id-b")
	var got []bool
	for i := range 5 {
		f := a
		if i%2 == 1 {
			f = b
		}
		stop, _ := sendRoute(f, "192.0.2.7")
		got = append(got, stop)
	}
	if diff := cmp.Diff([]bool{false, false, false, true, true}, got); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	// Another client has its own quota.
	if stop, b := sendRoute(a, "192.0.2.8"); stop || b.RespHeader.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("other client: stop %v headers %v", stop, b.RespHeader)
	}
	keys := mr.Keys()
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "t1:lc:g|p|s|r|remote_addr|3|60000:") {
		t.Errorf("redis keys %q, want two under the prefix naming group, project, service and route", keys)
	}
	if ttl := mr.TTL(keys[0]); ttl <= 0 || ttl > time.Minute {
		t.Errorf("key TTL %v, want the window", ttl)
	}
	if n := fb.count(FallbackUnreachable); n != 0 {
		t.Errorf("%d fallbacks with Redis up", n)
	}
}

func TestRedisPrefixesSeparate(t *testing.T) {
	mr := miniredis.RunT(t)
	var fb fallbacks
	cfg := Config{Count: 1, TimeWindow: 60, Key: "route", Policy: "redis"}
	c := &clock{t: time.Unix(1_000_020, 0)}
	a := newFilterScope(t, cfg, gatewayOn(t, mr.Addr(), "one:", &fb), c, "g|route:x")
	b := newFilterScope(t, cfg, gatewayOn(t, mr.Addr(), "two:", &fb), c, "g|route:x")
	if stop, _ := sendRoute(a, "192.0.2.1"); stop {
		t.Fatal("first request refused")
	}
	if stop, _ := sendRoute(b, "192.0.2.1"); stop {
		t.Error("a gateway under another prefix shared the count")
	}
}

func TestRedisDownFallsBackLocally(t *testing.T) {
	mr := miniredis.RunT(t)
	var fb fallbacks
	cfg := Config{Count: 2, TimeWindow: 60, Key: "remote_addr", Policy: "redis"}
	c := &clock{t: time.Unix(1_000_020, 0)}
	f := newFilterScope(t, cfg, gatewayOn(t, mr.Addr(), "t:", &fb), c, "g|route:r")
	if stop, _ := sendRoute(f, "192.0.2.1"); stop {
		t.Fatal("request refused with Redis up")
	}
	mr.Close()
	// Local counting from zero: two pass, the third is refused; never a 500.
	var got []int
	for range 3 {
		_, b := sendRoute(f, "192.0.2.1")
		got = append(got, b.ErrorStatus)
	}
	if diff := cmp.Diff([]int{0, 0, 429}, got); diff != "" {
		t.Errorf("statuses with Redis down (-want +got):\n%s", diff)
	}
	if n := fb.count(FallbackUnreachable); n != 3 {
		t.Errorf("fallbacks %d, want 3", n)
	}
	// Back after the pause: Redis counts again (its count went on from 1).
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Second)
	if stop, b := sendRoute(f, "192.0.2.1"); stop || b.RespHeader.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("after Redis came back: stop %v headers %v, want Redis's count 2 of 2", stop, b.RespHeader)
	}
	if n := fb.count(FallbackUnreachable); n != 3 {
		t.Errorf("fallbacks %d after recovery, want still 3", n)
	}
}

func TestRedisNotConfigured(t *testing.T) {
	var fb fallbacks
	reg := NewRegistry()
	reg.UseRemote(RemoteOptions{OnFallback: fb.record})
	c := &clock{t: time.Unix(1_000_020, 0)}
	f := newFilterScope(t, Config{Count: 1, TimeWindow: 60, Key: "route", Policy: "redis"}, reg, c, "g|route:r")
	if stop, _ := sendRoute(f, "192.0.2.1"); stop {
		t.Fatal("first request refused")
	}
	if stop, b := sendRoute(f, "192.0.2.1"); !stop || b.ErrorStatus != 429 {
		t.Errorf("second request: stop %v status %d, want a local 429", stop, b.ErrorStatus)
	}
	if n := fb.count(FallbackNotConfigured); n != 2 {
		t.Errorf("not_configured fallbacks %d, want 2", n)
	}
}

func TestRedisBadURL(t *testing.T) {
	if _, err := NewRedis("http://127.0.0.1:6379", ""); err == nil {
		t.Error("NewRedis accepted an http URL")
	}
}
