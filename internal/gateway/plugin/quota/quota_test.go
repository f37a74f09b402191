package quota

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

// clock is a settable time source shared by the registries of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func registry(c *clock) *Registry {
	r := NewRegistry()
	r.SetClock(c.now)
	return r
}

// plan is a subscription "sub-<app>" of plan name to service svc.
func plan(app, name string, quotas ...spec.Quota) map[string]*spec.ConsumerPlan {
	return map[string]*spec.ConsumerPlan{app: {Service: "svc", Subscription: "sub-" + app, Plan: name, Quotas: quotas}}
}

func q(n int64, period string) spec.Quota { return spec.Quota{Count: n, Period: period} }

// call sends one request of app (none: "") through f.
func call(f *Filter, app string) (stop bool, b *plugintest.Backing) {
	b = plugintest.New("192.0.2.1")
	b.At = f.reg.now() // the request arrives by the test's clock
	ex := b.Exchange()
	if app != "" {
		ex.SetConsumer(plugin.Consumer{ApplicationID: app, Name: app})
	}
	return f.OnRequest(ex), b
}

// calls sends n requests and returns the statuses (200 for admitted).
func calls(f *Filter, app string, n int) []int {
	var out []int
	for range n {
		_, b := call(f, app)
		out = append(out, max(b.ErrorStatus, 200))
	}
	return out
}

func statuses(admitted, refused int) []int {
	var out []int
	for range admitted {
		out = append(out, 200)
	}
	for range refused {
		out = append(out, 429)
	}
	return out
}

// TestDayQuotaResetsAtLocalMidnight: 5 a day admits exactly 5 calls until
// midnight in the group's zone (Shanghai, UTC+8: 16:00 UTC), then 5 more.
func TestDayQuotaResetsAtLocalMidnight(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	c := &clock{t: at(sh, 2024, 5, 1, 9, 0, 0)}
	f := New(registry(c), "prod", sh, plan("app", "free", q(5, spec.QuotaDay)))
	if diff := cmp.Diff(statuses(5, 2), calls(f, "app", 7)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	c.set(at(sh, 2024, 5, 1, 23, 59, 59)) // still the same local day (15:59:59 UTC)
	if _, b := call(f, "app"); b.ErrorStatus != 429 || b.RespHeader.Get("Retry-After") != "1" {
		t.Fatalf("a second before midnight: %d, headers %v, want 429 with Retry-After 1", b.ErrorStatus, b.RespHeader)
	}
	c.set(at(sh, 2024, 5, 2, 0, 0, 0))
	if diff := cmp.Diff(statuses(5, 1), calls(f, "app", 6)); diff != "" {
		t.Fatalf("after local midnight (-want +got):\n%s", diff)
	}
}

// TestRefusalNamesTheQuota: a refused call is a 429 quota_exceeded naming
// the quota, with Retry-After and the X-RateLimit-* headers of the quota
// that refused it; an admitted one carries the headers of the tightest.
func TestRefusalNamesTheQuota(t *testing.T) {
	sh := zone(t, "Asia/Shanghai")
	c := &clock{t: at(sh, 2024, 5, 1, 22, 0, 0)}
	f := New(registry(c), "prod", sh, plan("app", "gold", q(1000, spec.QuotaHour), q(3, spec.QuotaDay)))
	stop, b := call(f, "app")
	want := map[string]string{"X-Ratelimit-Limit": "3", "X-Ratelimit-Remaining": "2", "X-Ratelimit-Reset": "7200"}
	if stop || !headersAre(b, want) {
		t.Fatalf("first call: stop %v headers %v, want %v", stop, b.RespHeader, want)
	}
	calls(f, "app", 2)
	stop, b = call(f, "app")
	if !stop || b.ErrorStatus != 429 {
		t.Fatalf("fourth call: stop %v status %d, want 429", stop, b.ErrorStatus)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(b.ErrorBody, &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != "quota_exceeded" || body.Error.Message != "the day quota of plan gold (3 calls) is used up" {
		t.Errorf("error %+v", body.Error)
	}
	want = map[string]string{"X-Ratelimit-Limit": "3", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "7200", "Retry-After": "7200"}
	if !headersAre(b, want) {
		t.Errorf("429 headers %v, want %v", b.RespHeader, want)
	}
	// Without a plan name, the message says whose quota it is.
	g := New(registry(c), "prod", sh, plan("app", "", q(1, spec.QuotaMinute)))
	call(g, "app")
	if _, b := call(g, "app"); !strings.Contains(string(b.ErrorBody), "the minute quota of this subscription's plan (1 call) is used up") {
		t.Errorf("unnamed plan: %s", b.ErrorBody)
	}
}

func headersAre(b *plugintest.Backing, want map[string]string) bool {
	for k, v := range want {
		if b.RespHeader.Get(k) != v {
			return false
		}
	}
	return true
}

// TestRefusedCallCostsNoOtherQuota: a call the second quota refuses is not
// counted in the day's, so the day admits its 3 calls whatever the
// second refused meanwhile.
func TestRefusedCallCostsNoOtherQuota(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	reg := registry(c)
	f := New(reg, "prod", time.UTC, plan("app", "p", q(2, spec.QuotaSecond), q(3, spec.QuotaDay)))
	if diff := cmp.Diff(statuses(2, 3), calls(f, "app", 5)); diff != "" {
		t.Fatalf("first second (-want +got):\n%s", diff)
	}
	if _, b := call(f, "app"); b.RespHeader.Get("Retry-After") != "1" || !strings.Contains(string(b.ErrorBody), "second quota") {
		t.Errorf("refused by the second quota: headers %v body %s", b.RespHeader, b.ErrorBody)
	}
	c.set(c.t.Add(time.Second))
	if diff := cmp.Diff(statuses(1, 2), calls(f, "app", 3)); diff != "" {
		t.Fatalf("next second (-want +got):\n%s", diff)
	}
	if _, b := call(f, "app"); !strings.Contains(string(b.ErrorBody), "day quota") {
		t.Errorf("refused by the day quota, got %s", b.ErrorBody)
	}
	got := reg.Usage(context.Background(), "prod", "sub-app", f.plans["app"].spec(), time.UTC)
	if got[0].Used != 1 || got[1].Used != 3 || got[1].Remaining != 0 {
		t.Errorf("usage %+v, want 1 this second and 3 today", got)
	}
}

// spec is the plan's quotas back as the control plane sends them.
func (p *compiledPlan) spec() []spec.Quota {
	var out []spec.Quota
	for _, r := range p.quotas {
		out = append(out, q(r.limit, spec.QuotaPeriods[r.p]))
	}
	return out
}

// TestWithoutPlan: an application without a plan for the service, and a
// request no authentication admitted, pass untouched; a plan without
// quotas is never refused but its calls are counted for the figures.
func TestWithoutPlan(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	reg := registry(c)
	plans := plan("limited", "p", q(1, spec.QuotaDay))
	plans["unlimited"] = &spec.ConsumerPlan{Service: "svc", Subscription: "sub-unlimited"}
	f := New(reg, "prod", time.UTC, plans)
	call(f, "limited")
	for _, app := range []string{"", "project-app"} {
		for range 3 {
			if stop, b := call(f, app); stop || len(b.RespHeader) != 0 {
				t.Fatalf("app %q: stop %v headers %v, want nothing done", app, stop, b.RespHeader)
			}
		}
	}
	if diff := cmp.Diff(statuses(4, 0), calls(f, "unlimited", 4)); diff != "" {
		t.Fatalf("plan without quotas (-want +got):\n%s", diff)
	}
	if _, b := call(f, "unlimited"); len(b.RespHeader) != 0 {
		t.Errorf("a plan without quotas set headers %v", b.RespHeader)
	}
	want := []PeriodUsage{
		{Period: "day", Used: 5, ResetsAt: time.Date(2024, 4, 25, 0, 0, 0, 0, time.UTC), Local: true},
		{Period: "month", Used: 5, ResetsAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Local: true},
	}
	if diff := cmp.Diff(want, reg.Usage(context.Background(), "prod", "sub-unlimited", nil, time.UTC)); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if New(reg, "prod", time.UTC, nil) != nil {
		t.Error("a filter for a service nobody holds a plan for")
	}
}

// TestReloadKeepsCounts: a new table (a publish) compiles the same
// subscription against the same counts; another group counts apart.
func TestReloadKeepsCounts(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	reg := registry(c)
	first := New(reg, "prod", time.UTC, plan("app", "p", q(2, spec.QuotaHour)))
	calls(first, "app", 2)
	again := New(reg, "prod", time.UTC, plan("app", "p", q(2, spec.QuotaHour), q(10, spec.QuotaDay)))
	if stop, _ := call(again, "app"); !stop {
		t.Error("a rebuilt filter forgot the hour's count")
	}
	other := New(reg, "test", time.UTC, plan("app", "p", q(2, spec.QuotaHour)))
	if stop, _ := call(other, "app"); stop {
		t.Error("another group shares the count")
	}
	reg.Retain(func(group, _ string) bool { return group == "prod" })
	if reg.lookup("test", "sub-app") != nil || reg.lookup("prod", "sub-app") == nil {
		t.Error("Retain kept the wrong counts")
	}
}

// TestUsage reports every quota's period and the day and month, shortest
// first.
func TestUsage(t *testing.T) {
	ny := zone(t, "America/New_York")
	c := &clock{t: at(ny, 2024, 3, 10, 12, 30, 0)}
	reg := registry(c)
	quotas := []spec.Quota{q(100, spec.QuotaMonth), q(10, spec.QuotaMinute)}
	f := New(reg, "prod", ny, map[string]*spec.ConsumerPlan{"app": {Service: "svc", Subscription: "s1", Plan: "p", Quotas: quotas}})
	calls(f, "app", 3)
	want := []PeriodUsage{
		{Period: "minute", Limit: 10, Used: 3, Remaining: 7, ResetsAt: at(ny, 2024, 3, 10, 12, 31, 0), Local: true},
		{Period: "day", Used: 3, ResetsAt: at(ny, 2024, 3, 11, 0, 0, 0), Local: true},
		{Period: "month", Limit: 100, Used: 3, Remaining: 97, ResetsAt: at(ny, 2024, 4, 1, 0, 0, 0), Local: true},
	}
	got := reg.Usage(context.Background(), "prod", "s1", quotas, ny)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if got := reg.Usage(context.Background(), "prod", "unknown", nil, ny); len(got) != 2 || got[0].Used != 0 {
		t.Errorf("usage of a subscription never seen: %+v", got)
	}
}

// fakeRemote is a Redis shared by the registries of a test; fail makes
// every call fail.
type fakeRemote struct {
	mu     sync.Mutex
	counts map[string]int64
	ttls   map[string]time.Duration
	fail   bool
	calls  int
}

func newFakeRemote() *fakeRemote {
	return &fakeRemote{counts: map[string]int64{}, ttls: map[string]time.Duration{}}
}

var errDown = errors.New("connection refused")

func (r *fakeRemote) TakeAll(_ context.Context, keys []string, limits []int64, ttls []time.Duration) ([]int64, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return nil, false, errDown
	}
	out := make([]int64, len(keys))
	ok := true
	for i, k := range keys {
		out[i] = r.counts[k]
		if limits[i] > 0 && out[i] >= limits[i] {
			ok = false
		}
	}
	if !ok {
		return out, false, nil
	}
	for i, k := range keys {
		r.add(k, 1, ttls[i])
		out[i] = r.counts[k]
	}
	return out, true, nil
}

func (r *fakeRemote) add(k string, n int64, ttl time.Duration) {
	if _, ok := r.counts[k]; !ok {
		r.ttls[k] = ttl
	}
	r.counts[k] += n
}

func (r *fakeRemote) AddAll(_ context.Context, keys []string, n []int64, ttls []time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return errDown
	}
	for i, k := range keys {
		r.add(k, n[i], ttls[i])
	}
	return nil
}

func (r *fakeRemote) Counts(_ context.Context, keys []string) ([]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return nil, errDown
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = r.counts[k]
	}
	return out, nil
}

func (r *fakeRemote) Prefix() string { return "t:" }

func (r *fakeRemote) setFail(fail bool) { r.mu.Lock(); r.fail = fail; r.mu.Unlock() }

// fallbacks records OnFallback calls.
type fallbacks struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *fallbacks) record(reason string) { f.mu.Lock(); f.n[reason]++; f.mu.Unlock() }
func (f *fallbacks) count(reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[reason]
}

func remoteRegistry(c *clock, rem Remote, fb *fallbacks, rejected *int) *Registry {
	r := registry(c)
	r.Use(Options{Remote: rem, OnFallback: fb.record, OnReject: func(string, string) { *rejected++ }})
	return r
}

// TestSharedRemote: two gateways sharing one remote admit the quota once
// between them; the usage-only day and month reach the remote when
// flushed, and Usage reads every gateway's.
func TestSharedRemote(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	rem := newFakeRemote()
	fb := &fallbacks{n: map[string]int{}}
	var rejected int
	plans := plan("app", "p", q(5, spec.QuotaHour))
	a := New(remoteRegistry(c, rem, fb, &rejected), "prod", time.UTC, plans)
	b := New(remoteRegistry(c, rem, fb, &rejected), "prod", time.UTC, plans)
	var got []int
	for i := range 8 {
		f := a
		if i%2 == 1 {
			f = b
		}
		got = append(got, calls(f, "app", 1)...)
	}
	if diff := cmp.Diff(statuses(5, 3), got); diff != "" {
		t.Fatalf("statuses across two gateways (-want +got):\n%s", diff)
	}
	if rejected != 3 || fb.count(FallbackUnreachable) != 0 {
		t.Errorf("rejections %d, fallbacks %v", rejected, fb.n)
	}
	hourKey := "t:quota:prod:sub-app:hour:1713999600"
	if rem.counts[hourKey] != 5 || rem.ttls[hourKey] <= 0 || rem.ttls[hourKey] > time.Hour+time.Minute {
		t.Errorf("remote %v ttls %v, want %s = 5 expiring after the hour", rem.counts, rem.ttls, hourKey)
	}
	// The day and the month are in the remote once both gateways flushed.
	for _, f := range []*Filter{a, b} {
		if err := f.reg.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if rem.counts["t:quota:prod:sub-app:day:1713916800"] != 5 || rem.counts["t:quota:prod:sub-app:month:1711929600"] != 5 {
		t.Errorf("remote after flushing: %v", rem.counts)
	}
	u := a.reg.Usage(context.Background(), "prod", "sub-app", plans["app"].Quotas, time.UTC)
	if len(u) != 3 || u[0].Used != 5 || u[1].Used != 5 || u[2].Used != 5 || u[0].Local {
		t.Errorf("usage %+v, want 5 in each period, from the remote", u)
	}
}

// TestRemoteDownFallsBackLocally: while the remote fails, calls are
// decided on this gateway's counts (never an error) and reported; the
// remote is rested for a second after a failure; once it answers again
// the local counts are added to it.
func TestRemoteDownFallsBackLocally(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	rem := newFakeRemote()
	fb := &fallbacks{n: map[string]int{}}
	var rejected int
	reg := remoteRegistry(c, rem, fb, &rejected)
	f := New(reg, "prod", time.UTC, plan("app", "p", q(3, spec.QuotaDay)))
	calls(f, "app", 1)
	rem.setFail(true)
	if diff := cmp.Diff(statuses(3, 1), calls(f, "app", 4)); diff != "" {
		t.Fatalf("with the remote down, local counting from zero (-want +got):\n%s", diff)
	}
	if fb.count(FallbackUnreachable) != 4 || rem.calls != 2 {
		t.Errorf("fallbacks %v, remote calls %d: want 4 fallbacks and one failed call (then a rest)", fb.n, rem.calls)
	}
	if u := reg.Usage(context.Background(), "prod", "sub-app", f.plans["app"].spec(), time.UTC); !u[0].Local || u[0].Used != 3 {
		t.Errorf("usage with the remote resting: %+v, want this gateway's 3", u)
	}
	if err := reg.Flush(context.Background()); err != nil {
		t.Errorf("a flush while the remote rests: %v", err)
	}
	rem.setFail(false)
	c.set(c.t.Add(2 * time.Second))
	if err := reg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := rem.counts["t:quota:prod:sub-app:day:1713916800"]; n != 4 {
		t.Errorf("the day's count in the remote after recovery %d, want 1 + 3 counted locally", n)
	}
	if stop, b := call(f, "app"); !stop || b.ErrorStatus != 429 {
		t.Errorf("after recovery: stop %v status %d, want the remote's count to refuse", stop, b.ErrorStatus)
	}
}

// TestNoAllocations: an application without a plan for the service costs
// no allocation (BenchmarkFilter shows the cost of one with a plan: the
// headers' numbers above 99 are formatted into new strings).
func TestNoAllocations(t *testing.T) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	f := New(registry(c), "prod", zone(t, "Asia/Shanghai"), plan("app", "p", q(1<<40, spec.QuotaMonth)))
	b := plugintest.New("192.0.2.1")
	ex := b.Exchange()
	ex.SetConsumer(plugin.Consumer{ApplicationID: "other"})
	if n := testing.AllocsPerRun(100, func() { f.OnRequest(ex) }); n != 0 {
		t.Errorf("no plan: %v allocations a request", n)
	}
}

func BenchmarkFilter(b *testing.B) {
	c := &clock{t: time.Unix(1_714_000_000, 0)}
	plans := plan("app", "gold", q(1<<40, spec.QuotaSecond), q(1<<40, spec.QuotaDay))
	for i := range 1000 {
		plans["many-"+string(rune('a'+i%26))+strings.Repeat("x", i%7)] = &spec.ConsumerPlan{Service: "svc", Subscription: "s"}
	}
	f := New(registry(c), "prod", zone(b, "Asia/Shanghai"), plans)
	for _, app := range []string{"app", "no-plan"} {
		b.Run(app, func(b *testing.B) {
			bk := plugintest.New("192.0.2.1")
			ex := bk.Exchange()
			ex.SetConsumer(plugin.Consumer{ApplicationID: app})
			b.ReportAllocs()
			for b.Loop() {
				f.OnRequest(ex)
			}
		})
	}
}

// A call counted after one that opened the next period, though it arrived
// before it, counts in its own period and leaves the new period's count
// alone: opening the old period again would push the new one's count out.
func TestLateCallKeepsThePeriod(t *testing.T) {
	at := func(sec, nsec int) time.Time { return time.Date(2024, 5, 1, 10, 0, sec, nsec, time.UTC) }
	c := &clock{t: at(59, 0)}
	f := New(registry(c), "prod", time.UTC, plan("app", "p", q(2, spec.QuotaMinute)))
	steps := []struct {
		at   time.Time
		stop bool
	}{
		{at(59, 0), false},           // 10:00, 1 of 2
		{at(60, 0), false},           // 10:01, 1 of 2
		{at(59, 999_999_999), false}, // late: 10:00, 2 of 2
		{at(60, 500_000_000), false}, // 10:01, 2 of 2
		{at(61, 0), true},            // 10:01, 3 of 2
	}
	for i, s := range steps {
		c.set(s.at)
		if stop, b := call(f, "app"); stop != s.stop {
			t.Fatalf("call %d at %v: refused %v (status %d), want %v", i, s.at.Format("15:04:05.000"), stop, b.ErrorStatus, s.stop)
		}
	}
}
