package limitreq

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no rate", Config{}, "rate"},
		{"negative burst", Config{Rate: 1, Burst: -1}, "burst"},
		{"bad key", Config{Rate: 1, Key: "cookie:a"}, "key"},
		{"hold too long", Config{Rate: 1, Burst: 100}, "nodelay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil, "s")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
	if _, err := New(Config{Rate: 1, Burst: 100, NoDelay: true}, nil, "s"); err != nil {
		t.Errorf("nodelay with a large burst: %v", err)
	}
}

type clock struct {
	t     time.Time
	slept []time.Duration
}

func (c *clock) now() time.Time { return c.t }
func (c *clock) sleep(d time.Duration) {
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
}

// timed is a filter under test and the clock its requests arrive by.
type timed struct {
	*Filter
	c *clock
}

func filter(t *testing.T, cfg Config, reg *Registry, c *clock) timed {
	t.Helper()
	f, err := New(cfg, reg, "g|route:r")
	if err != nil {
		t.Fatal(err)
	}
	f.sleep = c.sleep
	return timed{f, c}
}

func send(f timed, addr string, edit func(*plugintest.Backing, *plugin.Exchange)) (bool, *plugintest.Backing) {
	b := plugintest.New(addr)
	b.At = f.c.now()
	ex := b.Exchange()
	if edit != nil {
		edit(b, ex)
	}
	return f.OnRequest(ex), b
}

func TestNoDelayBurst(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := filter(t, Config{Rate: 2, Burst: 2, Key: "remote_addr", NoDelay: true}, NewRegistry(), c)
	// At once: 1 at the rate + 2 of burst pass, the fourth is refused.
	var got []bool
	for range 4 {
		stop, _ := send(f, "192.0.2.1", nil)
		got = append(got, stop)
	}
	if diff := cmp.Diff([]bool{false, false, false, true}, got); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	_, b := send(f, "192.0.2.1", nil)
	if b.ErrorStatus != 429 || b.RespHeader.Get("Retry-After") != "1" || b.RespHeader.Get("X-RateLimit-Limit") != "2" {
		t.Errorf("refusal %d %v", b.ErrorStatus, b.RespHeader)
	}
	if stop, _ := send(f, "192.0.2.2", nil); stop {
		t.Error("another client shared the bucket")
	}
	// Half a second later one more drained out.
	c.t = c.t.Add(500 * time.Millisecond)
	if stop, _ := send(f, "192.0.2.1", nil); stop {
		t.Error("refused after the bucket leaked one")
	}
	if len(c.slept) != 0 {
		t.Errorf("nodelay slept %v", c.slept)
	}
}

func TestDelayHoldsToTheRate(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := filter(t, Config{Rate: 10, Burst: 2, Key: "route"}, NewRegistry(), c)
	start := c.t
	for i := range 3 {
		if stop, _ := send(f, "192.0.2.1", func(b *plugintest.Backing, _ *plugin.Exchange) { b.Client = b.Client.Next() }); stop {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	want := []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}
	if diff := cmp.Diff(want, c.slept); diff != "" {
		t.Errorf("holds (-want +got):\n%s", diff)
	}
	if c.t.Sub(start) != 200*time.Millisecond {
		t.Errorf("three requests took %v at 10/s, want 200ms", c.t.Sub(start))
	}
}

func TestKeys(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	tests := []struct {
		name  string
		key   string
		a, b  func(*plugintest.Backing, *plugin.Exchange)
		share bool
	}{
		{"header", "header:X-Tenant",
			func(b *plugintest.Backing, _ *plugin.Exchange) { b.ReqHeader.Set("X-Tenant", "a") },
			func(b *plugintest.Backing, _ *plugin.Exchange) { b.ReqHeader.Set("X-Tenant", "b") }, false},
		{"consumer", "consumer",
			func(_ *plugintest.Backing, ex *plugin.Exchange) { ex.SetConsumer(plugin.Consumer{ApplicationID: "1"}) },
			func(_ *plugintest.Backing, ex *plugin.Exchange) { ex.SetConsumer(plugin.Consumer{ApplicationID: "2"}) }, false},
		{"route", "route", nil, func(b *plugintest.Backing, _ *plugin.Exchange) { b.Client = b.Client.Next() }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filter(t, Config{Rate: 1, Key: tc.key, NoDelay: true}, NewRegistry(), c)
			if stop, _ := send(f, "192.0.2.1", tc.a); stop {
				t.Fatal("first refused")
			}
			if stop, _ := send(f, "192.0.2.1", tc.a); !stop {
				t.Fatal("second of the same key passed")
			}
			if stop, _ := send(f, "192.0.2.1", tc.b); stop != tc.share {
				t.Errorf("other key refused = %v, want %v", stop, tc.share)
			}
		})
	}
}

func TestRegistryKeepsBuckets(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	reg := NewRegistry()
	cfg := Config{Rate: 1, Key: "route", NoDelay: true}
	if stop, _ := send(filter(t, cfg, reg, c), "192.0.2.1", nil); stop {
		t.Fatal("first refused")
	}
	if stop, _ := send(filter(t, cfg, reg, c), "192.0.2.1", nil); !stop {
		t.Error("a rebuilt filter (reload) forgot the bucket")
	}
}

func TestSweepDropsDrainedKeys(t *testing.T) {
	b := &buckets{tat: map[plugin.RequestKey]*int64{}}
	for i := range sweepAt {
		b.take(int64(i), plugin.RequestKey{S: string(rune('a'+i%26)) + strings.Repeat("x", i/26)}, 10, 0)
	}
	b.take(int64(2*time.Second), plugin.RequestKey{S: "new"}, 10, 0)
	if len(b.tat) != 1 {
		t.Errorf("%d keys after a sweep, want only the new one", len(b.tat))
	}
}

func BenchmarkOnRequest(b *testing.B) {
	f, err := New(Config{Rate: 1e6, Burst: 1e6, Key: "remote_addr", NoDelay: true}, nil, "s")
	if err != nil {
		b.Fatal(err)
	}
	ex := plugintest.New("192.0.2.1").Exchange()
	b.ReportAllocs()
	for b.Loop() {
		f.OnRequest(ex)
	}
}
