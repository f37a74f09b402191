package iprestriction

import (
	"net/netip"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestTrustedProxies(t *testing.T) {
	cfg := Config{Allow: []string{"203.0.113.0/24", "2001:db8::/32"}, TrustedProxies: []string{"10.0.0.0/8", "fd00::1"}}
	tests := []clientTest{
		{name: "direct client, no header", peer: "203.0.113.5", wantIP: "203.0.113.5", allowed: true},
		{name: "untrusted peer's header ignored", peer: "198.51.100.1", xff: []string{"203.0.113.5"}, wantIP: "198.51.100.1"},
		{name: "trusted proxy", peer: "10.1.1.1", xff: []string{"203.0.113.5"}, wantIP: "203.0.113.5", allowed: true},
		{name: "trusted proxy, client spoofs in front", peer: "10.1.1.1", xff: []string{"203.0.113.9, 198.51.100.7"}, wantIP: "198.51.100.7"},
		{name: "chain of trusted proxies", peer: "10.1.1.1", xff: []string{"203.0.113.5, 10.2.2.2 , 10.3.3.3"}, wantIP: "203.0.113.5", allowed: true},
		{name: "several header lines", peer: "10.1.1.1", xff: []string{"203.0.113.9", "198.51.100.7", "10.2.2.2"}, wantIP: "198.51.100.7"},
		{name: "v6 proxy and client", peer: "fd00::1", xff: []string{"2001:db8::5"}, wantIP: "2001:db8::5", allowed: true},
		{name: "mapped client", peer: "10.1.1.1", xff: []string{"::ffff:203.0.113.5"}, wantIP: "203.0.113.5", allowed: true},
		{name: "garbage entry makes the client unknown", peer: "10.1.1.1", xff: []string{"203.0.113.5, not-an-ip"}, wantIP: ""},
		{name: "only proxies: the last one", peer: "10.1.1.1", xff: []string{"10.2.2.2"}, wantIP: "10.2.2.2"},
		{name: "trusted peer without header", peer: "10.1.1.1", wantIP: "10.1.1.1"},
		{name: "empty entries skipped", peer: "10.1.1.1", xff: []string{"203.0.113.5,, "}, wantIP: "203.0.113.5", allowed: true},
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runClientTests(t, f, tests)
}

// TestForwardedWithPort: a trusted proxy that writes the client's port
// does not get the client past a deny list, and anything unreadable in
// the chain refuses the request, even where only a deny list is set.
func TestForwardedWithPort(t *testing.T) {
	f, err := New(Config{Deny: []string{"10.0.0.1", "2001:db8::bad"}, TrustedProxies: []string{"192.168.0.0/16"}})
	if err != nil {
		t.Fatal(err)
	}
	runClientTests(t, f, []clientTest{
		{name: "v4 with port denied", peer: "192.168.1.1", xff: []string{"10.0.0.1:1234"}, wantIP: "10.0.0.1"},
		{name: "v6 with port denied", peer: "192.168.1.1", xff: []string{"[2001:db8::bad]:443"}, wantIP: "2001:db8::bad"},
		{name: "v4 with port allowed", peer: "192.168.1.1", xff: []string{"10.0.0.2:1234"}, wantIP: "10.0.0.2", allowed: true},
		{name: "v6 with port allowed", peer: "192.168.1.1", xff: []string{"[2001:db8::1]:443"}, wantIP: "2001:db8::1", allowed: true},
		{name: "proxy with port skipped", peer: "192.168.1.1", xff: []string{"10.0.0.1, 192.168.2.2:80"}, wantIP: "10.0.0.1"},
		{name: "garbage refused by a deny-only list", peer: "192.168.1.1", xff: []string{"10.0.0.1x"}, wantIP: ""},
		{name: "garbage behind a good entry refused", peer: "192.168.1.1", xff: []string{"10.0.0.1, unknown"}, wantIP: ""},
		{name: "bare v6 with port unreadable", peer: "192.168.1.1", xff: []string{"2001:db8::bad:443x"}, wantIP: ""},
		{name: "zone unreadable", peer: "192.168.1.1", xff: []string{"[fe80::1%eth0]:80"}, wantIP: ""},
		{name: "bad port unreadable", peer: "192.168.1.1", xff: []string{"10.0.0.1:99999"}, wantIP: ""},
		{name: "untrusted peer's header ignored", peer: "203.0.113.1", xff: []string{"10.0.0.1:1"}, wantIP: "203.0.113.1", allowed: true},
	})
}

type clientTest struct {
	name    string
	peer    string
	xff     []string // header lines
	wantIP  string   // the client the lists see; "" : unknown
	allowed bool
}

func runClientTests(t *testing.T, f *Filter, tests []clientTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.Client(netip.MustParseAddr(tc.peer), tc.xff)
			want := netip.Addr{}
			if tc.wantIP != "" {
				want = netip.MustParseAddr(tc.wantIP)
			}
			if got != want {
				t.Errorf("Client = %v, want %v", got, want)
			}
			b := plugintest.New(tc.peer)
			for _, line := range tc.xff {
				b.ReqHeader.Add("X-Forwarded-For", line)
			}
			if stop := f.OnRequest(b.Exchange()); stop == tc.allowed {
				t.Errorf("refused = %v, want %v", stop, !tc.allowed)
			}
		})
	}
}

func TestMappedPrefix(t *testing.T) {
	f, err := New(Config{Allow: []string{"::ffff:10.0.0.0/104"}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Allowed(netip.MustParseAddr("10.9.8.7")) || f.Allowed(netip.MustParseAddr("11.0.0.1")) {
		t.Error("an IPv4-mapped prefix does not match its IPv4 clients")
	}
	if _, err := New(Config{Allow: []string{"::ffff:0:0/80"}}); err == nil {
		t.Error("a prefix mixing mapped and other IPv6 was accepted")
	}
	if _, err := New(Config{Allow: []string{"fe80::1%eth0"}}); err == nil {
		t.Error("an address with a zone was accepted")
	}
}
