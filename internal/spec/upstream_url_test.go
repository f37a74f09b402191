package spec

import (
	"strings"
	"testing"
)

func TestParseUpstreamURL(t *testing.T) {
	tests := []struct {
		in   string
		want UpstreamURL
		err  string
	}{
		{in: "https://api.example.com", want: UpstreamURL{"https", "api.example.com", 443, ""}},
		{in: "https://api.example.com/v2/", want: UpstreamURL{"https", "api.example.com", 443, "/v2"}},
		{in: "http://10.0.0.5:8080/base/x", want: UpstreamURL{"http", "10.0.0.5", 8080, "/base/x"}},
		{in: "http://[::1]:81", want: UpstreamURL{"http", "::1", 81, ""}},
		{in: "ftp://x.example", err: "http or https"},
		{in: "/relative", err: "http or https"},
		{in: "https://u:p@x.example", err: "user info"},
		{in: "https://x.example/?q=1", err: "query"},
		{in: "https://x.example:0", err: "port"},
		{in: "https://bad_host!", err: "host name"},
	}
	for _, tc := range tests {
		got, err := ParseUpstreamURL(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: err %v, want one about %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestUpstreamURLExcludesNodes(t *testing.T) {
	u := Upstream{URL: "https://x.example", Nodes: []Node{{Host: "a", Port: 1, Weight: 1}}}
	fe := u.Validate("upstream.")
	if len(fe) != 1 || fe[0].Field != "upstream.url" {
		t.Errorf("Validate = %v, want one error on upstream.url", fe)
	}
}
