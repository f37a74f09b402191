package engine

import "testing"

// A redirect's Location is built from the Host the client sent: only a
// plain name or address may go into it.
func TestPlainHost(t *testing.T) {
	for h, want := range map[string]bool{
		"api.example.com": true, "10.0.0.1": true, "::1": true, "API-1.Example.com": true,
		"": false, "evil.com/x": false, "a@b": false, "a b": false, "evil.com?": false, "x#y": false, "a\\b": false,
	} {
		if got := plainHost(h); got != want {
			t.Errorf("plainHost(%q) = %v, want %v", h, got, want)
		}
	}
}
