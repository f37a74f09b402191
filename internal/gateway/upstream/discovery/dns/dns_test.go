package dns

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/discoverytest"
	"github.com/portico-gw/portico/internal/spec"
)

func newResolver(t *testing.T, address string) *Resolver {
	t.Helper()
	r, err := New(discovery.Config{Type: "dns", Address: address})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func resolve(r *Resolver, name string) (discovery.Result, error) {
	return r.Resolve(context.Background(), discovery.Target{ServiceName: name}, "", 0)
}

func node(host string, port, weight int) spec.Node {
	return spec.Node{Host: host, Port: port, Weight: weight}
}

const w = spec.DefaultNodeWeight

func TestResolve(t *testing.T) {
	s := newTestServer(t)
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.2", 60), a("web.test.", "10.0.0.1", 30))
	s.set("web.test.", dnsmessage.TypeAAAA, aaaa("web.test.", "2001:db8::1", 120))
	// A resolver answers a CNAME with the chain and the target's records,
	// in any order.
	s.set("www.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 60), cname("www.test.", "web.test.", 20),
		a("other.test.", "10.9.9.9", 1))
	s.set("v4.test.", dnsmessage.TypeA, a("v4.test.", "10.0.0.3", 300))
	s.set("_http._tcp.web.test.", dnsmessage.TypeSRV,
		srv("_http._tcp.web.test.", 10, 5, 8080, "b.web.test.", 40),
		srv("_http._tcp.web.test.", 10, 0, 8081, "a.web.test.", 50),
		srv("_http._tcp.web.test.", 20, 100, 8082, "backup.web.test.", 10),
		srv("_http._tcp.web.test.", 10, 1, 8083, ".", 60))
	s.edit(func(s *testServer) { s.soaTTL = 15 })
	r := newResolver(t, s.addr())

	for _, tc := range []struct {
		name string
		want []spec.Node
		ttl  time.Duration
	}{
		{"web.test", []spec.Node{node("10.0.0.1", 80, w), node("10.0.0.2", 80, w), node("2001:db8::1", 80, w)}, 30 * time.Second},
		{"WEB.test.:8080", []spec.Node{node("10.0.0.1", 8080, w), node("10.0.0.2", 8080, w), node("2001:db8::1", 8080, w)}, 30 * time.Second},
		{"www.test", []spec.Node{node("10.0.0.1", 80, w)}, 15 * time.Second}, // CNAME 20 s, no AAAA: SOA 15 s
		{"v4.test:81", []spec.Node{node("10.0.0.3", 81, w)}, 15 * time.Second},
		{"empty.test", []spec.Node{}, 15 * time.Second},
		// The lowest priority only; weight 0 → 1; a target "." is no node.
		{"_http._tcp.web.test", []spec.Node{node("a.web.test", 8081, 1), node("b.web.test", 8080, 5)}, 10 * time.Second},
		{"10.1.2.3:81", []spec.Node{node("10.1.2.3", 81, w)}, 0},
		{"2001:db8::5", []spec.Node{node("2001:db8::5", 80, w)}, 0},
		{"[2001:db8::5]:82", []spec.Node{node("2001:db8::5", 82, w)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := resolve(r, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Nodes, tc.want) || res.Nodes == nil || res.TTL != tc.ttl || res.Index != "" {
				t.Errorf("Resolve = %+v, want nodes %v, TTL %v", res, tc.want, tc.ttl)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	s := newTestServer(t)
	s.edit(func(s *testServer) { s.nxdomain["gone.test."], s.nxdomain["_http._tcp.gone.test."] = true, true })
	r := newResolver(t, s.addr())
	for _, tc := range []struct {
		name, want string
		is         error
	}{
		{"gone.test", "gone.test: no such name (NXDOMAIN)", ErrNXDomain},
		{"_http._tcp.gone.test", "NXDOMAIN", ErrNXDomain},
		{"a..test", `"a..test" is not a DNS name`, nil},
		{"web.test:0", "port", nil},
		{"web.test:http", "port", nil},
		{strings.Repeat("a", 64) + ".test", "is not a DNS name", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolve(r, tc.name)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `dns: service "`+tc.name+`": `) {
				t.Fatalf("error %v, want one naming dns and the service, saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}

	s.edit(func(s *testServer) { s.rcode = dnsmessage.RCodeServerFailure })
	if _, err := resolve(r, "web.test"); err == nil || !strings.Contains(err.Error(), "RCodeServerFailure") {
		t.Errorf("SERVFAIL: error %v", err)
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		address, server string
	}{
		{"", ""},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"10.0.0.1", "10.0.0.1:53"},
		{"[2001:db8::1]:53", "[2001:db8::1]:53"},
		{"2001:db8::1", "[2001:db8::1]:53"},
		{"dns.example:53", "error"},
		{"127.0.0.1:0", "error"},
		{"udp://127.0.0.1", "error"},
	} {
		r, err := New(discovery.Config{Address: tc.address})
		if tc.server == "error" {
			if err == nil || !strings.HasPrefix(err.Error(), "dns: address") {
				t.Errorf("New(%q) = %v, want an error", tc.address, err)
			}
			continue
		}
		if err != nil || r.server != tc.server {
			t.Errorf("New(%q) = %+v, %v; want server %q", tc.address, r, err, tc.server)
		}
	}
}

func TestResolvConf(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		conf, want string
	}{
		{"# comment\nsearch example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n", "10.0.0.53:53"},
		{"nameserver fe80::1%eth0\n", "[fe80::1%eth0]:53"},
		{"nameserver bad\nnameserver 2001:db8::53", "[2001:db8::53]:53"},
		{"search example\n", "error"},
	} {
		path := filepath.Join(dir, "resolv.conf")
		if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := firstNameserver(path)
		if tc.want == "error" {
			if err == nil {
				t.Errorf("%q: %q, want an error", tc.conf, got)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.conf, got, err, tc.want)
		}
	}

	// With no address, the Resolver reads the file at every question (a
	// server in it would be on port 53, which a test cannot listen on).
	r := newResolver(t, "")
	r.resolvConf = filepath.Join(dir, "missing")
	if _, err := resolve(r, "web.test"); err == nil || !strings.Contains(err.Error(), "no DNS server configured") {
		t.Errorf("no resolv.conf: error %v", err)
	}
}

// TestTruncated: an answer truncated over UDP is asked again over TCP.
func TestTruncated(t *testing.T) {
	s := newTestServer(t)
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 60))
	s.edit(func(s *testServer) { s.truncate = true })
	res, err := resolve(newResolver(t, s.addr()), "web.test")
	if err != nil || !slices.Equal(res.Nodes, []spec.Node{node("10.0.0.1", 80, w)}) {
		t.Errorf("Resolve = %+v, %v; want the TCP answer", res, err)
	}
}

// TestForgedAnswer: an answer with another ID (late, or forged) is ignored
// and the real one awaited.
func TestForgedAnswer(t *testing.T) {
	s := newTestServer(t)
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 60))
	s.edit(func(s *testServer) { s.forge = true })
	res, err := resolve(newResolver(t, s.addr()), "web.test")
	if err != nil || !slices.Equal(res.Nodes, []spec.Node{node("10.0.0.1", 80, w)}) {
		t.Errorf("Resolve = %+v, %v; want the real answer", res, err)
	}
}

// TestFollow: Follow asks again when the TTL (1 s) expires and sees records
// added and removed; NXDOMAIN and a server gone are errors that keep the
// nodes; the server back, Follow is healthy again.
func TestFollow(t *testing.T) {
	s := newTestServer(t)
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 1))
	r := newResolver(t, s.addr())
	f := discoverytest.Follow(t, r, discovery.Target{ServiceName: "web.test:8080"}, time.Millisecond)
	one := []spec.Node{node("10.0.0.1", 8080, w)}
	f.WaitNodes(t, one)

	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 1), a("web.test.", "10.0.0.2", 1))
	s.set("web.test.", dnsmessage.TypeAAAA, aaaa("web.test.", "2001:db8::1", 1))
	f.WaitNodes(t, []spec.Node{node("10.0.0.1", 8080, w), node("10.0.0.2", 8080, w), node("2001:db8::1", 8080, w)})
	s.set("web.test.", dnsmessage.TypeAAAA)
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.2", 1))
	two := []spec.Node{node("10.0.0.2", 8080, w)}
	f.WaitNodes(t, two)

	s.edit(func(s *testServer) { s.nxdomain["web.test."] = true })
	if st := f.WaitStatus(t, false); !strings.Contains(st.Error, "NXDOMAIN") {
		t.Errorf("status %+v, want NXDOMAIN", st)
	}
	f.NoUpdate(t)
	s.edit(func(s *testServer) { delete(s.nxdomain, "web.test.") })
	f.WaitStatus(t, true)

	s.stop()
	if st := f.WaitStatus(t, false); !strings.HasPrefix(st.Error, `dns: service "web.test:8080": `) || st.LastSync.IsZero() {
		t.Errorf("status with the server gone = %+v", st)
	}
	f.NoUpdate(t)
	s.restart()
	s.set("web.test.", dnsmessage.TypeA, a("web.test.", "10.0.0.1", 1))
	f.WaitNodes(t, one)
	f.WaitStatus(t, true)
}

// FuzzAnswer: no answer a server can send makes the reading panic, and
// what it returns is of the type asked.
func FuzzAnswer(f *testing.F) {
	for _, rs := range [][]dnsmessage.Resource{
		{a("web.test.", "10.0.0.1", 60), cname("web.test.", "web.test.", 1)},
		{cname("web.test.", "x.test.", 5), aaaa("x.test.", "::1", 9)},
		{srv("web.test.", 1, 0, 80, ".", 1)},
	} {
		m := dnsmessage.Message{Header: dnsmessage.Header{Response: true},
			Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName("web.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
			Answers:   rs, Authorities: []dnsmessage.Resource{soa(3)}}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dnsmessage.Message
		if m.Unpack(b) != nil {
			return
		}
		for _, typ := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA, dnsmessage.TypeSRV} {
			var ttl ttlMin
			records, err := answerRecords(&m, "web.test.", typ, &ttl)
			if err != nil {
				continue
			}
			for _, r := range records {
				if r.Header.Type != typ {
					t.Errorf("record %v for a question of %v", r, typ)
				}
			}
		}
	})
}
