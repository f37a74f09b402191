package limitcount

import (
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // part of the error; "" for valid
	}{
		{"valid consumer", Config{Count: 10, TimeWindow: 60}, ""},
		{"valid header", Config{Count: 1, TimeWindow: 0.5, Key: "header:X-Tenant"}, ""},
		{"zero count", Config{Count: 0, TimeWindow: 60}, "count"},
		{"no window", Config{Count: 1}, "time_window"},
		{"tiny window", Config{Count: 1, TimeWindow: 0.0001}, "millisecond"},
		{"bad key", Config{Count: 1, TimeWindow: 1, Key: "cookie"}, "key"},
		{"empty header", Config{Count: 1, TimeWindow: 1, Key: "header:"}, "key"},
		{"redis", Config{Count: 1, TimeWindow: 1, Policy: "redis"}, ""},
		{"bad policy", Config{Count: 1, TimeWindow: 1, Policy: "global"}, "policy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil, "s")
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
			}
		})
	}
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// timed is a filter under test and the clock its requests arrive by.
type timed struct {
	*Filter
	c *clock
}

func newFilter(t *testing.T, cfg Config, reg *Registry, c *clock) timed {
	t.Helper()
	return newFilterScope(t, cfg, reg, c, "g|route:r")
}

func newFilterScope(t *testing.T, cfg Config, reg *Registry, c *clock, scope string) timed {
	t.Helper()
	f, err := New(cfg, reg, scope)
	if err != nil {
		t.Fatal(err)
	}
	return timed{f, c}
}

// send runs one request from addr, arriving at f's clock, through f and
// returns whether it was refused and the backing, for headers.
func send(f timed, addr string, edit func(*plugintest.Backing, *plugin.Exchange)) (bool, *plugintest.Backing) {
	b := plugintest.New(addr)
	b.At = f.c.now()
	ex := b.Exchange()
	if edit != nil {
		edit(b, ex)
	}
	return f.OnRequest(ex), b
}

func TestLimitPerKey(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	tests := []struct {
		name  string
		key   string
		a, b  func(*plugintest.Backing, *plugin.Exchange) // two clients
		share bool                                        // whether a and b share one quota
	}{
		{"remote_addr", "remote_addr", nil, func(b *plugintest.Backing, _ *plugin.Exchange) { b.Client = b.Client.Next() }, false},
		{"route", "route", nil, func(b *plugintest.Backing, _ *plugin.Exchange) { b.Client = b.Client.Next() }, true},
		{"header", "header:X-Tenant",
			func(b *plugintest.Backing, _ *plugin.Exchange) { b.ReqHeader.Set("X-Tenant", "a") },
			func(b *plugintest.Backing, _ *plugin.Exchange) { b.ReqHeader.Set("X-Tenant", "b") }, false},
		{"consumer", "consumer",
			func(_ *plugintest.Backing, ex *plugin.Exchange) {
				ex.SetConsumer(plugin.Consumer{ApplicationID: "app-1"})
			},
			func(b *plugintest.Backing, ex *plugin.Exchange) {
				ex.SetConsumer(plugin.Consumer{ApplicationID: "app-2"}) // same address, other consumer
			}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFilter(t, Config{Count: 2, TimeWindow: 60, Key: tc.key}, NewRegistry(), c)
			for i := range 2 {
				if stop, _ := send(f, "192.0.2.1", tc.a); stop {
					t.Fatalf("request %d of client a refused under the limit", i+1)
				}
			}
			stop, b := send(f, "192.0.2.1", tc.a)
			if !stop || b.ErrorStatus != 429 {
				t.Fatalf("third request of client a: stop %v status %d, want 429", stop, b.ErrorStatus)
			}
			if b.RespHeader.Get("Retry-After") == "" || b.RespHeader.Get("X-RateLimit-Remaining") != "0" || b.RespHeader.Get("X-RateLimit-Limit") != "2" {
				t.Errorf("429 headers %v", b.RespHeader)
			}
			if stop, _ := send(f, "192.0.2.1", tc.b); stop != tc.share {
				t.Errorf("client b refused = %v, want %v (shared quota %v)", stop, tc.share, tc.share)
			}
		})
	}
}

func TestWindowResets(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	f := newFilter(t, Config{Count: 1, TimeWindow: 10, Key: "remote_addr"}, NewRegistry(), c)
	if stop, b := send(f, "192.0.2.1", nil); stop || b.RespHeader.Get("X-RateLimit-Remaining") != "0" || b.RespHeader.Get("X-RateLimit-Reset") != "10" {
		t.Fatalf("first: stop %v headers %v", stop, b.RespHeader)
	}
	c.t = c.t.Add(9 * time.Second)
	if stop, b := send(f, "192.0.2.1", nil); !stop || b.RespHeader.Get("Retry-After") != "1" {
		t.Fatalf("same window: stop %v headers %v, want 429 with Retry-After 1", stop, b.RespHeader)
	}
	c.t = c.t.Add(time.Second)
	if stop, _ := send(f, "192.0.2.1", nil); stop {
		t.Fatal("the next window still refused")
	}
}

// A request the filter sees after one that opened the next window, though
// it arrived before that one, counts in the current window: going back to
// its own would clear the current window's counts (and the next request
// would clear them again), letting twice the limit through.
func TestLateRequestKeepsTheWindow(t *testing.T) {
	c := &clock{t: time.Unix(1_000_010, 0)} // a 10 s window's first instant
	f := newFilter(t, Config{Count: 2, TimeWindow: 10, Key: "remote_addr"}, NewRegistry(), c)
	if stop, _ := send(f, "192.0.2.1", nil); stop {
		t.Fatal("first request refused")
	}
	c.t = c.t.Add(-time.Millisecond) // arrived in the window before
	if stop, b := send(f, "192.0.2.1", nil); stop || b.RespHeader.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("late request: stop %v headers %v, want admitted with 0 remaining", stop, b.RespHeader)
	}
	c.t = c.t.Add(time.Millisecond)
	if stop, _ := send(f, "192.0.2.1", nil); !stop {
		t.Fatal("a third request in a window of 2 was admitted: the late one cleared the counts")
	}
}

func TestRegistrySharesByScope(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	reg := NewRegistry()
	cfg := Config{Count: 1, TimeWindow: 60, Key: "route"}
	first := newFilter(t, cfg, reg, c)
	if stop, _ := send(first, "192.0.2.1", nil); stop {
		t.Fatal("first request refused")
	}
	// The same route rebuilt (a reload): the quota is kept.
	again := newFilter(t, cfg, reg, c)
	if stop, _ := send(again, "192.0.2.1", nil); !stop {
		t.Error("a rebuilt filter forgot the count")
	}
	// Another limit (count changed): fresh counters.
	cfg.Count = 5
	changed := newFilter(t, cfg, reg, c)
	if stop, _ := send(changed, "192.0.2.1", nil); stop {
		t.Error("a changed limit inherited the old count")
	}
}
