package match

import "testing"

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"api.example.com":      "api.example.com",
		"api.example.com:8080": "api.example.com",
		"[::1]:9080":           "::1",
		"[::1]":                "::1",
		"::1":                  "::1",
		"10.0.0.1:80":          "10.0.0.1",
		"":                     "",
	} {
		if got := HostOnly(in); got != want {
			t.Errorf("HostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
