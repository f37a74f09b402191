package proxycache

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// backing is plugintest's backing that can capture answers, as the
// engines do.
type backing struct {
	*plugintest.Backing
	sink plugin.ResponseSink
	max  int
}

func (b *backing) CaptureResponse(max int, sink plugin.ResponseSink) { b.sink, b.max = sink, max }

// request is a GET of path with the given request headers.
func request(path string, header ...string) *backing {
	b := &backing{Backing: plugintest.New("10.0.0.1")}
	b.ReqPath, b.ReqRawQuery, _ = strings.Cut(path, "?")
	for i := 0; i+1 < len(header); i += 2 {
		b.ReqHeader.Add(header[i], header[i+1])
	}
	b.Status = 0
	return b
}

func (b *backing) exchange() *plugin.Exchange {
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "default", ServiceName: "svc"}, RouteName: "r"}, nil)
	return ex
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newFilter(t *testing.T, cfg string, reg *Registry, purges Purges) (*Filter, *clock) {
	t.Helper()
	var c Config
	dec := json.NewDecoder(strings.NewReader(cfg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("config %s: %v", cfg, err)
	}
	if reg == nil {
		reg = NewRegistry()
	}
	f, err := New(c, reg, "default|service:s1", purges)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg, err)
	}
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.now = clk.now
	return f, clk
}

// answer is what the backend answers.
type answer struct {
	status int
	header []string
	body   string
}

// call runs one request through f: the request filter, and when it did
// not answer, the backend's answer through the response filter and the
// capture. It answers X-Cache-Status and whether the backend was called.
func call(t *testing.T, f *Filter, b *backing, a answer) (status string, backend bool) {
	t.Helper()
	ex := b.exchange()
	if f.OnRequest(ex) {
		return b.RespHeader.Get(HeaderStatus), false
	}
	if a.status == 0 {
		a.status = 200
	}
	b.Status = a.status
	for i := 0; i+1 < len(a.header); i += 2 {
		b.RespHeader.Add(a.header[i], a.header[i+1])
	}
	f.OnResponse(ex)
	if b.sink != nil && len(a.body) <= b.max {
		var hdr []plugin.HeaderField
		for k, vv := range b.RespHeader {
			for _, v := range vv {
				hdr = append(hdr, plugin.HeaderField{Name: k, Value: v})
			}
		}
		b.sink.ResponseCaptured(a.status, hdr, []byte(a.body))
	}
	return b.RespHeader.Get(HeaderStatus), true
}

func TestHitMissExpired(t *testing.T) {
	f, clk := newFilter(t, `{"ttl":60}`, nil, Purges{})
	a := answer{header: []string{"Content-Type", "application/json", "X-Backend", "1", "X-Ratelimit-Remaining", "9"}, body: `{"n":1}`}
	if st, up := call(t, f, request("/items"), a); st != StatusMiss || !up {
		t.Fatalf("first call: %s, backend called %v; want MISS from the backend", st, up)
	}
	clk.t = clk.t.Add(30 * time.Second)
	b := request("/items")
	if st, up := call(t, f, b, a); st != StatusHit || up {
		t.Fatalf("second call: %s, backend called %v; want HIT from the cache", st, up)
	}
	if string(b.RespBody) != `{"n":1}` || b.Status != 200 || b.RespHeader.Get("Content-Type") != "application/json" || b.RespHeader.Get("X-Backend") != "1" {
		t.Errorf("hit answered %d %q with %v", b.Status, b.RespBody, b.RespHeader)
	}
	if got := b.RespHeader.Get("Age"); got != "30" {
		t.Errorf("Age = %q, want 30", got)
	}
	if got := b.RespHeader.Get("X-Ratelimit-Remaining"); got != "" {
		t.Errorf("a hit replayed the stored request's X-RateLimit-Remaining %q", got)
	}
	if !ValidHex(b.RespHeader.Get(HeaderKey)) {
		t.Errorf("X-Cache-Key = %q", b.RespHeader.Get(HeaderKey))
	}
	clk.t = clk.t.Add(31 * time.Second)
	if st, up := call(t, f, request("/items"), a); st != StatusExpired || !up {
		t.Fatalf("after the ttl: %s, backend called %v; want EXPIRED from the backend", st, up)
	}
	if st, _ := call(t, f, request("/items"), a); st != StatusHit {
		t.Fatalf("after the refresh: %s, want HIT", st)
	}
}

func ValidHex(s string) bool { _, ok := ParseKey(s); return ok }

func TestKey(t *testing.T) {
	key := func(cfg, path string, header ...string) Key {
		f, _ := newFilter(t, cfg, nil, Purges{})
		return f.key(request(path, header...).exchange())
	}
	same := []struct {
		name   string
		cfg    string
		a, b   string
		ah, bh []string
		differ bool
	}{
		{name: "query order and escapes", cfg: `{}`, a: "/p?b=2&a=1", b: "/p?a=%31&b=2"},
		{name: "values of one name keep their order", cfg: `{}`, a: "/p?a=1&a=2", b: "/p?a=2&a=1", differ: true},
		{name: "query matters", cfg: `{}`, a: "/p?a=1", b: "/p?a=2", differ: true},
		{name: "path matters", cfg: `{}`, a: "/p", b: "/q", differ: true},
		{name: "chosen query only", cfg: `{"cache_key":{"query":["a"]}}`, a: "/p?a=1&utm=x", b: "/p?utm=y&a=1"},
		{name: "chosen query differs", cfg: `{"cache_key":{"query":["a"]}}`, a: "/p?a=1", b: "/p?a=2", differ: true},
		{name: "no query", cfg: `{"cache_key":{"query":[]}}`, a: "/p?a=1", b: "/p?a=2"},
		{name: "key header", cfg: `{"cache_key":{"headers":["X-Tenant"]}}`, a: "/p", b: "/p", ah: []string{"X-Tenant", "a"}, bh: []string{"X-Tenant", "b"}, differ: true},
		{name: "other headers do not", cfg: `{}`, a: "/p", b: "/p", ah: []string{"X-Tenant", "a"}, bh: []string{"X-Tenant", "b"}},
		{name: "vary header", cfg: `{}`, a: "/p", b: "/p", ah: []string{"Accept-Encoding", "gzip"}, bh: []string{"Accept-Encoding", "br"}, differ: true},
		{name: "vary off", cfg: `{"vary":[]}`, a: "/p", b: "/p", ah: []string{"Accept-Encoding", "gzip"}, bh: []string{"Accept-Encoding", "br"}},
		{name: "credentials apart when cached", cfg: `{"cache_authenticated":true}`, a: "/p", b: "/p", ah: []string{"Authorization", "Bearer a"}, bh: []string{"Authorization", "Bearer b"}, differ: true},
		{name: "no part passes for another", cfg: `{"cache_key":{"headers":["X-A","X-B"]}}`, a: "/p", b: "/p", ah: []string{"X-A", "1\x00"}, bh: []string{"X-B", "1"}, differ: true},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := key(tt.cfg, tt.a, tt.ah...), key(tt.cfg, tt.b, tt.bh...)
			if (ka != kb) != tt.differ {
				t.Errorf("keys of %s and %s: equal %v, want equal %v", tt.a, tt.b, ka == kb, !tt.differ)
			}
		})
	}
	t.Run("HEAD shares GET's key, the epoch and scope do not", func(t *testing.T) {
		f, _ := newFilter(t, `{}`, nil, Purges{})
		g := f.key(request("/p").exchange())
		hb := request("/p")
		hb.ReqMethod = http.MethodHead
		if f.key(hb.exchange()) != g {
			t.Error("HEAD has its own key")
		}
		f2, _ := newFilter(t, `{}`, nil, Purges{Epoch: "e2"})
		if f2.key(request("/p").exchange()) == g {
			t.Error("a new epoch keeps the key")
		}
		f3, _ := New(Config{}, nil, "default|route:r2", Purges{})
		if f3.key(request("/p").exchange()) == g {
			t.Error("another scope shares the key")
		}
	})
	t.Run("consumer", func(t *testing.T) {
		f, _ := newFilter(t, `{"cache_authenticated":true}`, nil, Purges{})
		b := request("/p")
		ex := b.exchange()
		ex.SetConsumer(plugin.Consumer{ApplicationID: "app1", Name: "a"})
		k1 := f.key(ex)
		ex = request("/p").exchange()
		ex.SetConsumer(plugin.Consumer{ApplicationID: "app2", Name: "a"})
		if f.key(ex) == k1 {
			t.Error("two consumers share a key")
		}
	})
}

func TestAuthenticatedNeverCachedByDefault(t *testing.T) {
	for _, h := range [][]string{{"Authorization", "Bearer x"}, {"Cookie", "session=1"}, {}} {
		t.Run(fmt.Sprint(h), func(t *testing.T) {
			f, _ := newFilter(t, `{}`, nil, Purges{})
			consumer := len(h) == 0
			run := func() string {
				b := request("/p", h...)
				ex := b.exchange()
				if consumer {
					ex.SetConsumer(plugin.Consumer{ApplicationID: "app1"})
				}
				if f.OnRequest(ex) {
					t.Fatal("answered from the cache")
				}
				b.Status = 200
				f.OnResponse(ex)
				if b.sink != nil {
					t.Fatal("the answer of an authenticated request is captured")
				}
				return b.RespHeader.Get(HeaderStatus)
			}
			if st := run(); st != StatusBypass {
				t.Errorf("X-Cache-Status %s, want BYPASS", st)
			}
		})
	}
	t.Run("the route says so", func(t *testing.T) {
		f, _ := newFilter(t, `{"cache_authenticated":true}`, nil, Purges{})
		call(t, f, request("/p", "Authorization", "Bearer a"), answer{body: "a's"})
		if st, _ := call(t, f, request("/p", "Authorization", "Bearer b"), answer{body: "b's"}); st != StatusMiss {
			t.Errorf("another credential: %s, want MISS", st)
		}
		b := request("/p", "Authorization", "Bearer a")
		if st, _ := call(t, f, b, answer{}); st != StatusHit || string(b.RespBody) != "a's" {
			t.Errorf("same credential: %s %q, want HIT a's", st, b.RespBody)
		}
	})
}

func TestWhatIsStored(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		method string
		req    []string
		a      answer
		want   string // the second call's X-Cache-Status
	}{
		{name: "200 stored", cfg: `{}`, a: answer{body: "x"}, want: StatusHit},
		{name: "404 stored by default", cfg: `{}`, a: answer{status: 404}, want: StatusHit},
		{name: "500 not", cfg: `{}`, a: answer{status: 500}, want: StatusMiss},
		{name: "chosen statuses", cfg: `{"cache_http_status":[500]}`, a: answer{status: 500}, want: StatusHit},
		{name: "Set-Cookie never", cfg: `{}`, a: answer{header: []string{"Set-Cookie", "a=1"}}, want: StatusMiss},
		{name: "Vary on a keyed header", cfg: `{}`, a: answer{header: []string{"Vary", "Accept-Encoding"}}, want: StatusHit},
		{name: "Vary on another header", cfg: `{}`, a: answer{header: []string{"Vary", "User-Agent"}}, want: StatusMiss},
		{name: "Vary on a key header", cfg: `{"cache_key":{"headers":["User-Agent"]}}`, a: answer{header: []string{"Vary", "user-agent"}}, want: StatusHit},
		{name: "Vary star", cfg: `{}`, a: answer{header: []string{"Vary", "*"}}, want: StatusMiss},
		{name: "Vary Origin (cors)", cfg: `{}`, a: answer{header: []string{"Vary", "Accept-Encoding, Origin"}}, want: StatusHit},
		{name: "no-store ignored by default", cfg: `{}`, a: answer{header: []string{"Cache-Control", "no-store"}}, want: StatusHit},
		{name: "no-store honored", cfg: `{"honor_cache_control":true}`, a: answer{header: []string{"Cache-Control", "no-store"}}, want: StatusMiss},
		{name: "private honored", cfg: `{"honor_cache_control":true}`, a: answer{header: []string{"Cache-Control", "private, max-age=60"}}, want: StatusMiss},
		{name: "no-cache honored", cfg: `{"honor_cache_control":true}`, a: answer{header: []string{"Cache-Control", "no-cache"}}, want: StatusMiss},
		{name: "max-age=0 honored", cfg: `{"honor_cache_control":true}`, a: answer{header: []string{"Cache-Control", "max-age=0"}}, want: StatusMiss},
		{name: "POST bypasses", cfg: `{}`, method: http.MethodPost, want: StatusBypass},
		{name: "HEAD not in cache_method", cfg: `{"cache_method":["GET"]}`, method: http.MethodHead, want: StatusBypass},
		{name: "HEAD is not stored", cfg: `{}`, method: http.MethodHead, want: StatusMiss},
		{name: "bypass header", cfg: `{"bypass":{"headers":["X-Fresh"]}}`, req: []string{"X-Fresh", "1"}, want: StatusBypass},
		{name: "bypass header 0", cfg: `{"bypass":{"headers":["X-Fresh"]}}`, req: []string{"X-Fresh", "0"}, want: StatusHit},
		{name: "client no-cache ignored by default", cfg: `{}`, req: []string{"Cache-Control", "no-cache"}, want: StatusHit},
		{name: "client no-cache", cfg: `{"bypass":{"client_no_cache":true}}`, req: []string{"Cache-Control", "no-cache"}, want: StatusBypass},
		{name: "client Pragma", cfg: `{"honor_cache_control":true}`, req: []string{"Pragma", "no-cache"}, want: StatusBypass},
		{name: "body over max_entry_size", cfg: `{"max_entry_size":1024}`, a: answer{body: strings.Repeat("x", 1025)}, want: StatusMiss},
		{name: "declared over max_entry_size", cfg: `{"max_entry_size":1024}`, a: answer{header: []string{"Content-Length", "5000"}}, want: StatusMiss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFilter(t, tt.cfg, nil, Purges{})
			for range 2 {
				b := request("/p", tt.req...)
				if tt.method != "" {
					b.ReqMethod = tt.method
				}
				st, _ := call(t, f, b, tt.a)
				_ = st
			}
			b := request("/p", tt.req...)
			if tt.method != "" {
				b.ReqMethod = tt.method
			}
			if st, _ := call(t, f, b, tt.a); st != tt.want {
				t.Errorf("X-Cache-Status %s, want %s", st, tt.want)
			}
		})
	}
}

func TestHonoredFreshness(t *testing.T) {
	f, clk := newFilter(t, `{"honor_cache_control":true,"ttl":1000}`, nil, Purges{})
	call(t, f, request("/a"), answer{header: []string{"Cache-Control", "public, max-age=10, s-maxage=20"}})
	call(t, f, request("/b"), answer{header: []string{"Cache-Control", "max-age=10", "Age", "5"}})
	date := clk.t.Format(http.TimeFormat)
	call(t, f, request("/c"), answer{header: []string{"Date", date, "Expires", clk.t.Add(40 * time.Second).Format(http.TimeFormat)}})
	call(t, f, request("/d"), answer{}) // nothing said: the ttl
	for _, tt := range []struct {
		after time.Duration
		want  map[string]string
	}{
		{4 * time.Second, map[string]string{"/a": StatusHit, "/b": StatusHit, "/c": StatusHit, "/d": StatusHit}},
		{6 * time.Second, map[string]string{"/a": StatusHit, "/b": StatusExpired, "/c": StatusHit, "/d": StatusHit}},
		{25 * time.Second, map[string]string{"/a": StatusExpired, "/c": StatusHit, "/d": StatusHit}},
		{45 * time.Second, map[string]string{"/c": StatusExpired, "/d": StatusHit}},
	} {
		clk.t = clk.t.Add(tt.after)
		for path, want := range tt.want {
			b := request(path)
			ex := b.exchange()
			f.OnRequest(ex)
			if got := b.RespHeader.Get(HeaderStatus); got != want {
				t.Errorf("%s after %v more: %s, want %s", path, tt.after, got, want)
			}
		}
	}
}

func TestSizeBoundEvictsLeastRecentlyUsed(t *testing.T) {
	reg := NewRegistry()
	f, _ := newFilter(t, `{"memory_size":65536,"max_entry_size":20000}`, reg, Purges{})
	body := strings.Repeat("x", 15000)
	for _, p := range []string{"/1", "/2", "/3", "/4"} {
		call(t, f, request(p), answer{body: body})
	}
	// Four of 15 000 bytes fit in 64 KiB; /1 is used again, then /5
	// must push out the least recently used: /2.
	call(t, f, request("/1"), answer{})
	call(t, f, request("/5"), answer{body: body})
	if n, used := reg.Stats(); n != 4 || used > 65536 {
		t.Errorf("store holds %d entries, %d bytes; want 4 within 65536", n, used)
	}
	for p, want := range map[string]string{"/1": StatusHit, "/2": StatusMiss, "/3": StatusHit, "/5": StatusHit} {
		b := request(p)
		f.OnRequest(b.exchange())
		if got := b.RespHeader.Get(HeaderStatus); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
}

func TestStoreKeptAcrossReloadsAndPurges(t *testing.T) {
	reg := NewRegistry()
	f, _ := newFilter(t, `{}`, reg, Purges{})
	call(t, f, request("/a"), answer{body: "a"})
	b := request("/b")
	call(t, f, b, answer{body: "b"})
	keyB := b.RespHeader.Get(HeaderKey)

	// A new revision of the same configuration: the entries are there.
	f2, _ := newFilter(t, `{}`, reg, Purges{})
	if st, _ := call(t, f2, request("/a"), answer{}); st != StatusHit {
		t.Fatalf("after a reload: %s, want HIT", st)
	}
	// A revision that purges /b's key.
	purges := Purges{Keys: []PurgedKey{{Key: keyB, At: 1}}}
	f3, _ := newFilter(t, `{}`, reg, purges)
	if st, _ := call(t, f3, request("/b"), answer{body: "b2"}); st != StatusMiss {
		t.Fatalf("purged key: %s, want MISS", st)
	}
	if st, _ := call(t, f3, request("/a"), answer{}); st != StatusHit {
		t.Fatalf("another key after a key's purge: %s, want HIT", st)
	}
	// The same purge compiled again (another route, a later revision)
	// does not delete what was stored after it.
	f4, _ := newFilter(t, `{}`, reg, purges)
	if st, _ := call(t, f4, request("/b"), answer{}); st != StatusHit {
		t.Fatalf("entry stored after the purge: %s, want HIT", st)
	}
	// A purge of the whole service: a new epoch.
	f5, _ := newFilter(t, `{}`, reg, Purges{Epoch: "x", Keys: purges.Keys})
	if st, _ := call(t, f5, request("/a"), answer{}); st != StatusMiss {
		t.Fatalf("after the service's purge: %s, want MISS", st)
	}
}

func TestConfigRefusals(t *testing.T) {
	for _, tt := range []struct{ cfg, want string }{
		{`{"strategy":"disk"}`, "strategy"},
		{`{"cache_method":["POST"]}`, "cache_method[0]"},
		{`{"cache_method":["HEAD"]}`, "cache_method"},
		{`{"cache_method":[]}`, "cache_method"},
		{`{"cache_http_status":[206]}`, "cache_http_status[0]"},
		{`{"cache_http_status":[]}`, "cache_http_status"},
		{`{"ttl":-1}`, "ttl"},
		{`{"ttl":999999999}`, "ttl"},
		{`{"cache_key":{"headers":["bad name"]}}`, "cache_key.headers[0]"},
		{`{"cache_key":{"query":[""]}}`, "cache_key.query[0]"},
		{`{"vary":["a:b"]}`, "vary[0]"},
		{`{"bypass":{"headers":[""]}}`, "bypass.headers[0]"},
		{`{"max_entry_size":10}`, "max_entry_size"},
		{`{"memory_size":10}`, "memory_size"},
		{`{"max_entry_size":2000000,"memory_size":1000000}`, "max_entry_size"},
	} {
		var c Config
		if err := json.Unmarshal([]byte(tt.cfg), &c); err != nil {
			t.Fatal(err)
		}
		_, err := New(c, nil, "s", Purges{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %s", tt.cfg, err, tt.want)
		}
	}
}

func TestEntryEncoding(t *testing.T) {
	e := &entry{status: 301, header: []plugin.HeaderField{{Name: "Location", Value: "/x"}, {Name: "Content-Type", Value: "text/plain"}},
		body: []byte("moved"), stored: time.UnixMilli(1000), expires: time.UnixMilli(61000)}
	got, err := decodeEntry(encodeEntry(e))
	if err != nil {
		t.Fatal(err)
	}
	if got.status != 301 || string(got.body) != "moved" || len(got.header) != 2 || got.header[0] != e.header[0] ||
		!got.stored.Equal(e.stored) || !got.expires.Equal(e.expires) {
		t.Errorf("decoded %+v, want %+v", got, e)
	}
	for _, bad := range []string{"", "\x02", "\x01", "\x01\xac\x02\x00\x00\x05"} {
		if _, err := decodeEntry([]byte(bad)); err == nil {
			t.Errorf("decodeEntry(%q) accepted", bad)
		}
	}
}
