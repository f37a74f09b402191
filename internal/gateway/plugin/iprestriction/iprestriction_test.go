package iprestriction

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		client string
		want   bool // allowed
	}{
		{name: "allow cidr v4 inside", cfg: Config{Allow: []string{"10.0.0.0/8"}}, client: "10.1.2.3", want: true},
		{name: "allow cidr v4 outside", cfg: Config{Allow: []string{"10.0.0.0/8"}}, client: "11.0.0.1", want: false},
		{name: "allow single ip", cfg: Config{Allow: []string{"192.168.1.5"}}, client: "192.168.1.5", want: true},
		{name: "allow single ip other", cfg: Config{Allow: []string{"192.168.1.5"}}, client: "192.168.1.6", want: false},
		{name: "v4-mapped v6 client", cfg: Config{Allow: []string{"127.0.0.1"}}, client: "::ffff:127.0.0.1", want: true},
		{name: "allow v6 cidr", cfg: Config{Allow: []string{"2001:db8::/32"}}, client: "2001:db8::1", want: true},
		{name: "v6 outside", cfg: Config{Allow: []string{"2001:db8::/32"}}, client: "2001:db9::1", want: false},
		{name: "deny wins over allow", cfg: Config{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.0.0.1"}}, client: "10.0.0.1", want: false},
		{name: "deny only lets others pass", cfg: Config{Deny: []string{"10.0.0.0/24"}}, client: "10.0.1.1", want: true},
		{name: "deny only refuses listed", cfg: Config{Deny: []string{"::1"}}, client: "::1", want: false},
		{name: "unmasked cidr", cfg: Config{Allow: []string{"10.1.2.3/16"}}, client: "10.1.200.1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			b := plugintest.New(tt.client)
			stop := f.OnRequest(b.Exchange())
			if stop == tt.want {
				t.Errorf("OnRequest stop = %v, want %v", stop, !tt.want)
			}
			if !tt.want && b.ErrorStatus != 403 {
				t.Errorf("status = %d, want 403", b.ErrorStatus)
			}
			if tt.want && b.Errors != 0 {
				t.Errorf("allowed request got an error answer %d", b.ErrorStatus)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"empty":       {},
		"bad ip":      {Allow: []string{"10.0.0.300"}},
		"bad cidr":    {Deny: []string{"10.0.0.0/33"}},
		"host name":   {Allow: []string{"example.com"}},
		"empty entry": {Allow: []string{""}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", cfg)
			}
		})
	}
}

func BenchmarkOnRequest(b *testing.B) {
	f, err := New(Config{Allow: []string{"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"}, Deny: []string{"10.9.9.9"}})
	if err != nil {
		b.Fatal(err)
	}
	ex := plugintest.New("192.168.3.4").Exchange()
	b.ReportAllocs()
	for b.Loop() {
		if f.OnRequest(ex) {
			b.Fatal("refused")
		}
	}
}
