package basicauth

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

func index(t testing.TB) *consumer.Index {
	t.Helper()
	return consumer.New(consumers(t))
}

// consumers is one application with alice's basic-auth credential, as a
// snapshot carries it.
func consumers(t testing.TB) []spec.Consumer {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("pa:ss word"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return []spec.Consumer{{ID: "app-1", Name: "mobile", ProjectID: "p1",
		Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredBasicAuth, Key: "alice", Hash: string(h)}}}}
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func run(f *Filter, project, auth string) (*plugintest.Backing, *plugin.Exchange, bool) {
	b := plugintest.New("127.0.0.1")
	if auth != "" {
		b.ReqHeader.Set("Authorization", auth)
		b.UpstreamHeader.Set("Authorization", auth)
	}
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: project, ServiceID: "s1"}}, nil)
	return b, ex, f.OnRequest(ex)
}

// newFilter is a filter with a guard of its own, so tests do not share
// failure counts.
func newFilter(t testing.TB) *Filter {
	f, _ := New(Config{}, index(t))
	f.g = newGuard(2, 8, 64)
	return f
}

func TestBasicAuth(t *testing.T) {
	f := newFilter(t)
	for _, tc := range []struct {
		name, project, auth string
		status              int
	}{
		{"good", "p1", basic("alice", "pa:ss word"), 0},
		{"good, scheme in lower case", "p1", "basic " + strings.TrimPrefix(basic("alice", "pa:ss word"), "Basic "), 0},
		{"wrong password", "p1", basic("alice", "pa:ss wordx"), 401},
		{"unknown user", "p1", basic("bob", "pa:ss word"), 401},
		{"no header", "p1", "", 401},
		{"bearer", "p1", "Bearer abc", 401},
		{"not base64", "p1", "Basic ***", 401},
		{"another project", "p2", basic("alice", "pa:ss word"), 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ex, stop := run(f, tc.project, tc.auth)
			if tc.status != 0 {
				if !stop || b.ErrorStatus != tc.status {
					t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
				}
				if tc.status == 401 && !strings.HasPrefix(b.RespHeader.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("no Basic challenge: %v", b.RespHeader)
				}
				return
			}
			c, ok := ex.Consumer()
			if stop || !ok || c.ApplicationID != "app-1" || c.Name != "mobile" {
				t.Fatalf("stop %v consumer %+v", stop, c)
			}
			if b.UpstreamHeader.Get("Authorization") != "" || b.UpstreamHeader.Get("X-Consumer-Name") != "mobile" {
				t.Errorf("upstream headers %v", b.UpstreamHeader)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		h, user, pw string
		ok          bool
	}{
		{basic("a", "b:c"), "a", "b:c", true},
		{basic("a", ""), "a", "", true},
		{basic("", "x"), "", "", false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), "", "", false},
		{"Basic", "", "", false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("a\x00b:c")), "", "", false},
		{"Basic " + strings.Repeat("A", 2000), "", "", false},
	} {
		u, p, ok := Parse(tc.h)
		if u != tc.user || p != tc.pw || ok != tc.ok {
			t.Errorf("Parse(%q) = %q %q %v", tc.h, u, p, ok)
		}
	}
}

// FuzzParse: no panic, and whatever is accepted round-trips to the header.
func FuzzParse(f *testing.F) {
	for _, s := range []string{basic("alice", "pw"), "Basic", "basic Og==", "Basic YTpi", "Bearer x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		user, pw, ok := Parse(h)
		if !ok {
			return
		}
		if user == "" || strings.Contains(user, ":") {
			t.Fatalf("accepted user %q", user)
		}
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
		if err != nil || string(dec) != user+":"+pw {
			t.Fatalf("Parse(%q) = %q %q, not what the header says", h, user, pw)
		}
	})
}

func BenchmarkBasicAuthCached(b *testing.B) {
	f := newFilter(b)
	auth := basic("alice", "pa:ss word")
	bk := plugintest.New("127.0.0.1")
	bk.ReqHeader.Set("Authorization", auth)
	ex := &plugin.Exchange{}
	ri := &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}
	b.ReportAllocs()
	for b.Loop() {
		ex.Reset(bk, "req-1", ri, nil)
		if f.OnRequest(ex) {
			b.Fatal("refused")
		}
	}
}
