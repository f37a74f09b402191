package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const sharedRedis = "127.0.0.1:6379"

// needRedis skips (or, under CI's PORTICO_REQUIRE_REDIS, fails) when no
// Redis answers at addr, and returns a client to it.
func needRedis(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("PORTICO_REQUIRE_REDIS") != "" {
			t.Fatalf("Redis at %s: %v", addr, err)
		}
		t.Skipf("no Redis at %s (%v); CI starts one", addr, err)
	}
	return c
}

// testPrefix is a key prefix of this test only; its keys are deleted at
// cleanup.
func testPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	prefix := "portico-e2e:" + strings.ToLower(rand.Text()[:10]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

// publishLimited publishes service "shared" with route "limited" (a
// limit-count of count per hour, policy redis) and waits until it serves.
func publishLimited(t *testing.T, s *server, port, count int) {
	t.Helper()
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shared","protocols":["http"]}`, 201, &svc)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/routes", fmt.Sprintf(
		`{"name":"limited","paths":["/limited"],"plugins":{"limit-count":{"count":%d,"time_window":3600,"key":"route","policy":"redis"}}}`, count), 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	// Ready once the gateway's table holds the route: a request would
	// spend one of the count.
	waitFor(t, s.Status+"/readyz", 5*time.Second, func(st int, body []byte) bool {
		return st == 200 && strings.Contains(string(body), `"routes":1`)
	})
}

// awayFromWindowEnd waits, if needed, so the hour window does not end
// during the test (the counters would start over).
func awayFromWindowEnd(t *testing.T) {
	t.Helper()
	if left := time.Hour - time.Duration(time.Now().UnixNano()%int64(time.Hour)); left < 30*time.Second {
		t.Logf("waiting %v for the next rate-limit window", left)
		time.Sleep(left + time.Second)
	}
}

var fallbackRe = regexp.MustCompile(`(?m)^portico_ratelimit_redis_fallback_total\{reason="unreachable"\} (\d+)`)

// fallbacks reads the gateway's count of requests counted locally
// because Redis did not answer.
func fallbacks(t *testing.T, s *server) int {
	t.Helper()
	_, _, body, err := get(context.Background(), s.Status+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := fallbackRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no portico_ratelimit_redis_fallback_total{reason=\"unreachable\"}")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestRedisLimitCountAcrossGateways: two gateways (two servers with their
// own stores publishing the same service) share one limit through the
// real Redis.
func TestRedisLimitCountAcrossGateways(t *testing.T) {
	c := needRedis(t, sharedRedis)
	prefix := testPrefix(t, c)
	var hits atomic.Int64
	port := policyBackend(t, &hits)
	flags := []string{"--redis", "redis://" + sharedRedis, "--redis-prefix", prefix}
	a := startServer(t, t.TempDir(), flags...)
	b := startServer(t, t.TempDir(), flags...)
	publishLimited(t, a, port, 5)
	publishLimited(t, b, port, 5)
	awayFromWindowEnd(t)

	var statuses []int
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		resp, body := send(t, "GET", s.Gateway+"/limited", nil)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0") {
			t.Errorf("429 headers %v", resp.Header)
		}
		if resp.StatusCode != 200 && resp.StatusCode != 429 {
			t.Errorf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if want := "[200 200 200 200 200 429 429 429 429 429]"; fmt.Sprint(statuses) != want {
		t.Errorf("statuses %v, want %s: one limit of 5 across both gateways", statuses, want)
	}
	if n := hits.Load(); n != 5 {
		t.Errorf("the upstream saw %d requests, want 5", n)
	}
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], prefix+"lc:default|default|shared|limited|") {
		t.Errorf("keys under the test prefix %q (%v), want one counter named by group, project, service and route", keys, err)
	}
	if fa, fb := fallbacks(t, a), fallbacks(t, b); fa != 0 || fb != 0 {
		t.Errorf("fallbacks %d and %d with Redis up, want 0", fa, fb)
	}
}

// privateRedis starts a redis-server of this test on a free port; kill
// stops it.
func privateRedis(t *testing.T) (addr string, kill func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PORTICO_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	kill = func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("redis-server did not exit after kill")
		}
	}
	t.Cleanup(kill)
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return addr, kill
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisDownFallsBackLocally: with its Redis killed the gateway keeps
// answering (never a 500), counts locally, and /metrics shows it.
func TestRedisDownFallsBackLocally(t *testing.T) {
	addr, kill := privateRedis(t)
	needRedis(t, addr)
	var hits atomic.Int64
	port := policyBackend(t, &hits)
	s := startServer(t, t.TempDir(), "--redis", "redis://"+addr, "--redis-prefix", "e2e-down:")
	publishLimited(t, s, port, 3)
	awayFromWindowEnd(t)

	for i := range 2 {
		if resp, body := send(t, "GET", s.Gateway+"/limited", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d with Redis up: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if n := fallbacks(t, s); n != 0 {
		t.Fatalf("fallbacks %d with Redis up", n)
	}
	kill()

	// Redis had counted 2 of 3; the gateway now counts from zero itself:
	// three pass, the fourth is refused, and nothing is a 500.
	var statuses []int
	for range 4 {
		resp, body := send(t, "GET", s.Gateway+"/limited", nil)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode >= 500 {
			t.Errorf("%d %s with Redis down", resp.StatusCode, body)
		}
	}
	if want := "[200 200 200 429]"; fmt.Sprint(statuses) != want {
		t.Errorf("statuses with Redis down %v, want %s (local counting)", statuses, want)
	}
	if n := fallbacks(t, s); n < 4 {
		t.Errorf("fallback counter %d after 4 requests with Redis down, want at least 4", n)
	}
	if out := s.out.String(); !strings.Contains(out, "counting locally") {
		t.Errorf("the gateway did not log the fallback:\n%s", out)
	}
}
