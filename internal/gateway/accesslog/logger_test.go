package accesslog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/portico-gw/portico/internal/spec"
)

// collector is a FuncSink's receiving end: it copies every batch (the
// lines are valid only during the call).
type collector struct {
	mu      sync.Mutex
	batches [][]string
	arrived chan struct{} // one token per batch, never blocks the sink
}

func newCollector() *collector { return &collector{arrived: make(chan struct{}, 1<<16)} }

func (c *collector) sink(name string) SinkConfig {
	return FuncSink(name, func(lines [][]byte) error {
		b := make([]string, len(lines))
		for i, l := range lines {
			b[i] = string(l)
		}
		c.mu.Lock()
		c.batches = append(c.batches, b)
		c.mu.Unlock()
		select {
		case c.arrived <- struct{}{}:
		default:
		}
		return nil
	})
}

func (c *collector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []string
	for _, b := range c.batches {
		all = append(all, b...)
	}
	return all
}

func (c *collector) batchSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n []int
	for _, b := range c.batches {
		n = append(n, len(b))
	}
	return n
}

func mustNew(t testing.TB, cfg Config) *Logger {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func closeLogger(t testing.TB, l *Logger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func written(l *Logger, sink string) float64 {
	return testutil.ToFloat64(l.lines.WithLabelValues(sink))
}

func dropped(l *Logger, sink, reason string) float64 {
	return testutil.ToFloat64(l.dropped.WithLabelValues(sink, reason))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogWritesEverySinkRedactedWithInstance(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, b := newCollector(), newCollector()
	l := mustNew(t, Config{Sinks: []SinkConfig{a.sink("a"), b.sink("b")}, Instance: "gw-7"})
	r := fullRecord()
	r.Instance = ""
	r.Query = "page=2&access_token=SECRET&Key=also"
	const n = 1200
	for i := range n {
		r.RequestID = "req-" + strconv.Itoa(i)
		l.Log(&r)
	}
	closeLogger(t, l)
	for name, c := range map[string]*collector{"a": a, "b": b} {
		lines := c.lines()
		if len(lines) != n {
			t.Fatalf("sink %s got %d lines, want %d", name, len(lines), n)
		}
		for i, line := range lines {
			var got spec.CallRecord
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("sink %s line %d: %v", name, i, err)
			}
			if want := "req-" + strconv.Itoa(i); got.RequestID != want {
				t.Fatalf("sink %s line %d is %s, want %s (order kept)", name, i, got.RequestID, want)
			}
			if got.Query != "page=2&access_token=***&Key=***" || got.Instance != "gw-7" {
				t.Fatalf("query %q, instance %q", got.Query, got.Instance)
			}
		}
		if w := written(l, name); w != n {
			t.Errorf("sink %s: lines_total %v, want %d", name, w, n)
		}
	}
}

func TestLogBatchesByCount(t *testing.T) {
	c := newCollector()
	sc := c.sink("c")
	sc.BatchEntries = 10
	sc.FlushInterval = time.Hour
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	r := fullRecord()
	for range 23 {
		l.Log(&r)
	}
	waitFor(t, "two full batches", func() bool { return len(c.lines()) == 20 })
	closeLogger(t, l) // writes the last three
	if sizes := c.batchSizes(); !slices.Equal(sizes, []int{10, 10, 3}) {
		t.Errorf("batch sizes %v, want [10 10 3]", sizes)
	}
}

func TestLogFlushesAfterInterval(t *testing.T) {
	c := newCollector()
	sc := c.sink("c")
	sc.BatchEntries = 1000
	sc.FlushInterval = 10 * time.Millisecond
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	defer closeLogger(t, l)
	r := fullRecord()
	for range 3 {
		l.Log(&r)
	}
	// Far from a full batch, and no Close: only the interval writes them.
	waitFor(t, "the lines", func() bool { return len(c.lines()) == 3 })
}

func TestLogDropsForFullQueueWithoutSlowingOthers(t *testing.T) {
	release := make(chan struct{})
	stuck := FuncSink("stuck", func([][]byte) error { <-release; return nil })
	healthy := newCollector()
	l := mustNew(t, Config{Sinks: []SinkConfig{stuck, healthy.sink("healthy")}, QueueEntries: 1000})
	r := leanRecord()
	const n = 100_000
	for range n {
		l.Log(&r)
	}
	// Every call returned although "stuck" writes nothing: its queue
	// (1000) and one batch in hand took what they could, the rest
	// dropped.
	if d := dropped(l, "stuck", DropQueueFull); d < n-1000-DefaultBatchEntries {
		t.Errorf("stuck sink dropped %v lines, want at least %d", d, n-1000-DefaultBatchEntries)
	}
	waitFor(t, "the healthy sink to account for every line", func() bool {
		return written(l, "healthy")+dropped(l, "healthy", DropQueueFull) == n
	})
	close(release)
	closeLogger(t, l)
	if w, d := written(l, "stuck"), dropped(l, "stuck", DropQueueFull); w+d != n {
		t.Errorf("stuck sink: %v written + %v dropped != %d", w, d, n)
	}
}

func TestLogCountsWriteErrors(t *testing.T) {
	l := mustNew(t, Config{Sinks: []SinkConfig{FuncSink("failing", func([][]byte) error { return errors.New("disk on fire") })}})
	r := fullRecord()
	for range 7 {
		l.Log(&r)
	}
	closeLogger(t, l)
	if d := dropped(l, "failing", DropWriteError); d != 7 {
		t.Errorf("write_error drops %v, want 7", d)
	}
	if w := written(l, "failing"); w != 0 {
		t.Errorf("lines_total %v, want 0", w)
	}
}

func TestLogAfterCloseIsIgnored(t *testing.T) {
	c := newCollector()
	l := mustNew(t, Config{Sinks: []SinkConfig{c.sink("c")}})
	closeLogger(t, l)
	r := fullRecord()
	l.Log(&r)
	if err := l.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := len(c.lines()); n != 0 {
		t.Errorf("%d lines written after Close", n)
	}
}

func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	l := mustNew(t, Config{Sinks: []SinkConfig{FuncSink("stuck", func([][]byte) error { <-release; return nil })}})
	r := fullRecord()
	l.Log(&r)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the context's deadline", err)
	}
}

func TestNewRefuses(t *testing.T) {
	c := newCollector()
	for name, cfg := range map[string]Config{
		"duplicate names": {Sinks: []SinkConfig{c.sink("x"), c.sink("x")}},
		"negative queue":  {Sinks: []SinkConfig{c.sink("x")}, QueueEntries: -1},
		"negative batch":  {Sinks: []SinkConfig{{Kind: KindFunc, Name: "x", BatchEntries: -1, fn: func([][]byte) error { return nil }}}},
		"func without fn": {Sinks: []SinkConfig{{Kind: KindFunc, Name: "x"}}},
		"unknown kind":    {Sinks: []SinkConfig{{Kind: "carrier-pigeon"}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCollectorsRegister(t *testing.T) {
	sc := newCollector().sink("c")
	sc.FlushInterval = time.Millisecond
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	defer closeLogger(t, l)
	reg := prometheus.NewPedanticRegistry()
	for _, c := range l.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	r := fullRecord()
	l.Log(&r)
	waitFor(t, "the line", func() bool { return written(l, "c") == 1 })
	if n, err := testutil.GatherAndCount(reg, "portico_access_log_lines_total", "portico_access_log_dropped_total"); err != nil || n != 3 {
		t.Errorf("gathered %d series (%v), want lines_total{c} and dropped_total{c,queue_full|write_error}", n, err)
	}
}

// leanRecord is a short record, for tests that log many.
func leanRecord() spec.CallRecord {
	return spec.CallRecord{Time: time.Now(), RequestID: "r", Method: "GET", Path: "/", Status: 200}
}

// discard is a sink that drops batches, for measuring Log alone.
func discard() SinkConfig { return FuncSink("discard", func([][]byte) error { return nil }) }

func TestLogAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops a quarter of what is put back")
	}
	l := mustNew(t, Config{Sinks: []SinkConfig{discard()}, QueueEntries: 4096})
	defer closeLogger(t, l)
	r := fullRecord()
	r.Query = "page=2&token=abc"
	// AllocsPerRun runs at GOMAXPROCS 1, and a sync.Pool drops what it
	// holds when GOMAXPROCS changes: warm it at that setting already.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// Warm up: the line pool, and both buffers the queue alternates
	// between grown to what the measured loop queues (at GOMAXPROCS 1 the
	// writer does not run until the loop is over).
	const warm = 3000
	for round := range 2 {
		for range warm {
			l.Log(&r)
		}
		waitFor(t, "the warm-up lines", func() bool { return written(l, "discard") == float64((round+1)*warm) })
	}
	if n := testing.AllocsPerRun(1000, func() { l.Log(&r) }); n != 0 {
		t.Errorf("Log allocates %v times per call", n)
	}
}

// BenchmarkLog: one realistic record (no bodies), redacted query, one
// sink.
func BenchmarkLog(b *testing.B) {
	l := mustNew(b, Config{Sinks: []SinkConfig{discard()}, Instance: "gw-1"})
	defer closeLogger(b, l)
	r := fullRecord()
	r.RequestBody, r.ResponseBody, r.Error, r.ErrorDetail = "", "", "", ""
	r.Query = "page=2&sort=desc&api_key=abcdef"
	b.ReportAllocs()
	for b.Loop() {
		l.Log(&r)
	}
}

// TestLogNamesEachCallsRoute: the text of the fields naming the route is
// kept between lines; a call of another route (or the same names in other
// memory) must still be written with its own.
func TestLogNamesEachCallsRoute(t *testing.T) {
	c := newCollector()
	l := mustNew(t, Config{Sinks: []SinkConfig{c.sink("c")}, Instance: "gw-1"})
	a, b := leanRecord(), leanRecord()
	a.Group, a.Service, a.Route = "prod", "orders", "list"
	b.Group, b.Service, b.Route = "prod", "orders", "get"
	copied := a
	copied.Route = strings.Clone(a.Route)
	other := a
	other.Instance = "gw-2"
	want := []spec.CallRecord{a, b, a, copied, other, b}
	for i := range want {
		l.Log(&want[i])
	}
	closeLogger(t, l)
	lines := c.lines()
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, line := range lines {
		var got spec.CallRecord
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		wantInstance := cmp.Or(want[i].Instance, "gw-1")
		if got.Route != want[i].Route || got.Service != want[i].Service || got.Instance != wantInstance {
			t.Errorf("line %d names route %q service %q instance %q, want %q %q %q", i, got.Route, got.Service, got.Instance, want[i].Route, want[i].Service, wantInstance)
		}
	}
}
