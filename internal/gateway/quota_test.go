package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/spec"
)

// sharedRedis is the machine's Redis (127.0.0.1:6379) and a key prefix
// of this test alone, its keys deleted at the end. Without a Redis the
// test is skipped, but not in CI: there it must run.
func sharedRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	const addr = "127.0.0.1:6379"
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s: %v (CI must run the Redis tests)", addr, err)
		}
		t.Skipf("no Redis at %s: %v", addr, err)
	}
	_ = conn.Close()
	prefix = fmt.Sprintf("portico-test:%s:%d:", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return "redis://" + addr, prefix
}

// redisGateway is one gateway's quota registry on the shared Redis, with
// the test's clock.
func redisGateway(t *testing.T, url, prefix string, now func() time.Time) *quota.Registry {
	t.Helper()
	r, err := limitcount.NewRedis(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	reg := quota.NewRegistry()
	reg.SetClock(now)
	reg.Use(quota.Options{Remote: r})
	return reg
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// callQuota sends one call of application app, arriving at now, through
// f; its status.
func callQuota(f *quota.Filter, app string, now time.Time) int {
	b := plugintest.New("192.0.2.1")
	b.At = now
	ex := b.Exchange()
	ex.SetConsumer(plugin.Consumer{ApplicationID: app})
	if f.OnRequest(ex) {
		return b.ErrorStatus
	}
	return 200
}

// TestQuotaSharedByGatewaysInRedis: two gateways sharing one real Redis
// admit a 5-a-day quota exactly 5 times between them, calls racing from
// both; the quota resets at midnight in the group's zone (Shanghai); a
// third reader (the control plane's) sees every gateway's usage.
func TestQuotaSharedByGatewaysInRedis(t *testing.T) {
	url, prefix := sharedRedis(t)
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2024, 5, 1, 23, 0, 0, 0, sh)}
	plans := map[string]*spec.ConsumerPlan{"app": {Service: "svc", Subscription: "sub-1", Plan: "free",
		Quotas: []spec.Quota{{Count: 5, Period: spec.QuotaDay}, {Count: 1000, Period: spec.QuotaMinute}}}}
	regs := []*quota.Registry{redisGateway(t, url, prefix, clock.now), redisGateway(t, url, prefix, clock.now)}
	gateways := []*quota.Filter{quota.New(regs[0], "prod", sh, plans), quota.New(regs[1], "prod", sh, plans)}
	admitted := func() int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		n := 0
		for i := range 12 {
			wg.Go(func() {
				if callQuota(gateways[i%2], "app", clock.now()) == 200 {
					mu.Lock()
					n++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return n
	}
	if n := admitted(); n != 5 {
		t.Fatalf("two gateways admitted %d calls of a 5-a-day quota, want 5", n)
	}
	reader := redisGateway(t, url, prefix, clock.now)
	u := reader.Usage(context.Background(), "prod", "sub-1", plans["app"].Quotas, sh)
	if len(u) != 3 || u[1].Period != "day" || u[1].Used != 5 || u[1].Remaining != 0 || u[1].Local ||
		!u[1].ResetsAt.Equal(time.Date(2024, 5, 2, 0, 0, 0, 0, sh)) {
		t.Errorf("usage read from Redis: %+v", u)
	}
	c := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(url, "redis://")})
	defer c.Close()
	dayKey := prefix + "quota:prod:sub-1:day:" + strconv.FormatInt(time.Date(2024, 5, 1, 0, 0, 0, 0, sh).Unix(), 10)
	if n, err := c.Get(context.Background(), dayKey).Int64(); err != nil || n != 5 {
		t.Errorf("%s = %d, %v; want 5", dayKey, n, err)
	}
	// The key lives until the day's end (an hour of the injected clock
	// away) and a minute more; Redis's own clock is the real one, so only
	// the bound is checked.
	if ttl, err := c.PTTL(context.Background(), dayKey).Result(); err != nil || ttl <= 0 || ttl > time.Hour+time.Minute {
		t.Errorf("ttl of %s: %v %v", dayKey, ttl, err)
	}
	// Local midnight in Shanghai: 5 more between them.
	clock.set(time.Date(2024, 5, 2, 0, 0, 0, 0, sh))
	if n := admitted(); n != 5 {
		t.Errorf("after local midnight the gateways admitted %d, want 5", n)
	}
	// The month has no quota: the gateways count it and add it to Redis
	// when they flush.
	for _, reg := range regs {
		if err := reg.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	u = reader.Usage(context.Background(), "prod", "sub-1", plans["app"].Quotas, sh)
	if len(u) != 3 || u[2].Period != "month" || u[2].Used != 10 || u[2].Limit != 0 || u[2].Local {
		t.Errorf("the month's usage read from Redis: %+v, want 10", u)
	}
}

// noonZone is a fixed zone in which it is now between noon and one
// o'clock: no day or month ends during the test.
func noonZone(t *testing.T) string {
	t.Helper()
	off := 12 - time.Now().UTC().Hour() // -11 … 12
	name := "Etc/GMT"
	switch {
	case off > 0:
		name += "-" + strconv.Itoa(off) // Etc/GMT-8 is UTC+8
	case off < 0:
		name += "+" + strconv.Itoa(-off)
	}
	if _, err := time.LoadLocation(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func keySum(key string) string { h := sha256.Sum256([]byte(key)); return hex.EncodeToString(h[:]) }

// quotaSnapshot serves /r with key-auth to "subscriber" (plan gold: 3
// calls a day) and "project-app" (no plan).
func quotaSnapshot(t *testing.T, rev int64, be *httptest.Server, zone string) *spec.Snapshot {
	t.Helper()
	r := named("r")
	r.Plugins = spec.Plugins{"key-auth": json.RawMessage(`{}`)}
	snap := snapshotOf(t, rev, be, r)
	g := &snap.Groups[0]
	g.Group.TimeZone = zone
	g.Consumers = []spec.Consumer{
		{ID: "subscriber", Name: "subscriber", Subscriptions: []string{"svc-id"},
			Plans:       []spec.ConsumerPlan{{Service: "svc-id", Subscription: "sub-1", Plan: "gold", Quotas: []spec.Quota{{Count: 3, Period: spec.QuotaDay}}}},
			Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredKeyAuth, Key: keySum("sub-key")}}},
		{ID: "project-app", Name: "project-app", ProjectID: "default",
			Credentials: []spec.ConsumerCredential{{ID: "c2", Type: spec.CredKeyAuth, Key: keySum("project-key")}}},
	}
	return snap
}

// callKey sends GET url with an API key; status, body and headers.
func callKey(t *testing.T, url, key string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("apikey", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestPlanQuota(t *testing.T) { forEachEngine(t, testPlanQuota) }

// testPlanQuota: through a running gateway, the subscriber's 3 calls a
// day pass with X-RateLimit-*, the fourth is a 429 naming the quota (and
// counted in the metric), a republish keeps the count, the project's
// application is not counted, and the gateway reports the usage.
func testPlanQuota(t *testing.T, engine string) {
	be := backendServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	report := &QuotaReport{}
	g := start(t, engine, func(o *Options) { o.Quotas = report })
	zone := noonZone(t)
	g.publish(t, quotaSnapshot(t, 1, be, zone))
	for i := range 3 {
		code, body, h := callKey(t, g.gw+"/r", "sub-key")
		if code != 200 || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) || h.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("call %d: %d %s %v", i+1, code, body, h)
		}
	}
	g.publish(t, quotaSnapshot(t, 2, be, zone)) // a reload keeps the count
	code, body, h := callKey(t, g.gw+"/r", "sub-key")
	var answer struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal([]byte(body), &answer)
	if code != 429 || answer.Error.Code != "quota_exceeded" || answer.Error.Message != "the day quota of plan gold (3 calls) is used up" {
		t.Fatalf("fourth call: %d %s", code, body)
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || ra > 12*3600 || h.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 headers %v: want Retry-After until local midnight (at most 12 h away)", h)
	}
	for range 5 {
		if code, body, h := callKey(t, g.gw+"/r", "project-key"); code != 200 || h.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("project application: %d %s %v", code, body, h)
		}
	}
	if got := metricValue(t, g.status, `portico_quota_rejections_total{group="default",service="svc"}`); got != 1 {
		t.Errorf("quota rejections %v, want 1", got)
	}
	usage, ok := report.Usage(context.Background(), "default", "sub-1")
	if !ok || len(usage) != 2 || usage[0].Period != "day" || usage[0].Limit != 3 || usage[0].Used != 3 || usage[1].Used != 3 || !usage[0].Local {
		t.Errorf("usage %+v %v, want 3 of 3 today and 3 this month, this gateway's", usage, ok)
	}
	if _, ok := report.Usage(context.Background(), "default", "sub-9"); ok {
		t.Error("usage of a subscription the gateway does not hold")
	}
}

func TestPlanQuotaTwoGatewaysOneRedis(t *testing.T) {
	forEachEngine(t, testPlanQuotaTwoGatewaysOneRedis)
}

// testPlanQuotaTwoGatewaysOneRedis: two gateways on one Redis answer 3
// calls between them; a third gateway whose Redis is down counts on its
// own and never fails a call.
func testPlanQuotaTwoGatewaysOneRedis(t *testing.T, engine string) {
	url, prefix := sharedRedis(t)
	be := backendServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	withRedis := func(url string) func(*Options) {
		return func(o *Options) { o.RedisURL, o.RedisPrefix = url, prefix }
	}
	zone := noonZone(t)
	a, b := start(t, engine, withRedis(url)), start(t, engine, withRedis(url))
	down := start(t, engine, withRedis("redis://127.0.0.1:1"))
	for _, g := range []*running{a, b, down} {
		g.publish(t, quotaSnapshot(t, 1, be, zone))
	}
	var got []int
	for i := range 6 {
		g := a
		if i%2 == 1 {
			g = b
		}
		code, _, _ := callKey(t, g.gw+"/r", "sub-key")
		got = append(got, code)
	}
	if want := []int{200, 200, 200, 429, 429, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("two gateways on one Redis: %v, want %v", got, want)
	}
	got = got[:0]
	for range 4 {
		code, _, _ := callKey(t, down.gw+"/r", "sub-key")
		got = append(got, code)
	}
	if want := []int{200, 200, 200, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a gateway whose Redis is down: %v, want its own count, %v", got, want)
	}
	if n := metricValue(t, down.status, `portico_ratelimit_redis_fallback_total{reason="unreachable"}`); n != 4 {
		t.Errorf("fallbacks %v, want 4", n)
	}
}
