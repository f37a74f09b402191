package proxyrewrite

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "at least one"},
		{"both uris", Config{URI: "/a", RegexURI: []string{"^/b", "/c"}}, "exclude"},
		{"relative uri", Config{URI: "a"}, "uri"},
		{"uri with query", Config{URI: "/a?b=1"}, "uri"},
		{"regex one part", Config{RegexURI: []string{"^/a"}}, "regex_uri"},
		{"bad regex", Config{RegexURI: []string{"(", "/a"}}, "regex_uri[0]"},
		{"relative template", Config{RegexURI: []string{"^/a", "b"}}, "regex_uri[1]"},
		{"bad host", Config{Host: "a b"}, "host"},
		{"bad port", Config{Host: "a:x"}, "host"},
		{"bad header", Config{Headers: plugin.HeaderOps{Set: map[string]string{"X-A": "1\n"}}}, "headers.set.X-A"},
		{"host header", Config{Headers: plugin.HeaderOps{Set: map[string]string{"host": "x"}}}, "Host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		backendPath string
		header      map[string]string
		wantPath    string // "" : not rewritten
		wantHost    string
		wantHeader  map[string]string // "" value: removed
	}{
		{name: "fixed uri", cfg: Config{URI: "/v2/items"}, backendPath: "/items", wantPath: "/v2/items"},
		{name: "regex", cfg: Config{RegexURI: []string{`^/users/(\d+)/orders$`, "/orders/by-user/$1"}},
			backendPath: "/users/42/orders", wantPath: "/orders/by-user/42"},
		{name: "regex named", cfg: Config{RegexURI: []string{`^/api/(?P<rest>.*)$`, "/${rest}"}},
			backendPath: "/api/a/b", wantPath: "/a/b"},
		{name: "regex no match", cfg: Config{RegexURI: []string{`^/nope/(.*)`, "/$1"}}, backendPath: "/items"},
		{name: "host", cfg: Config{Host: "api.internal:8443"}, backendPath: "/", wantHost: "api.internal:8443"},
		{name: "headers", cfg: Config{Headers: plugin.HeaderOps{
			Set: map[string]string{"X-Env": "prod"}, Add: map[string]string{"X-Tenant": "default", "X-Kept": "new"},
			Remove: []string{"Cookie"}}},
			backendPath: "/", header: map[string]string{"Cookie": "s=1", "X-Kept": "old"},
			wantHeader: map[string]string{"X-Env": "prod", "X-Tenant": "default", "Cookie": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := plugintest.New("192.0.2.1")
			b.Backend = tc.backendPath
			for k, v := range tc.header {
				b.ReqHeader.Set(k, v)
				b.UpstreamHeader.Set(k, v)
			}
			b.SetUpstreamHeader("X-Kept", b.ReqHeader.Get("X-Kept"))
			ex := b.Exchange()
			if f.OnRequest(ex) {
				t.Fatal("proxy-rewrite stopped the request")
			}
			if got := ex.UpstreamPath(); got != tc.wantPath {
				t.Errorf("upstream path %q, want %q", got, tc.wantPath)
			}
			if got := ex.UpstreamHost(); got != tc.wantHost {
				t.Errorf("upstream host %q, want %q", got, tc.wantHost)
			}
			for k, v := range tc.wantHeader {
				if got := b.UpstreamHeader.Get(k); got != v {
					t.Errorf("upstream %s = %q, want %q", k, got, v)
				}
			}
			if tc.header["X-Kept"] != "" && b.UpstreamHeader.Get("X-Kept") != "old" {
				t.Errorf("add replaced a header the request had: %q", b.UpstreamHeader.Get("X-Kept"))
			}
		})
	}
}
