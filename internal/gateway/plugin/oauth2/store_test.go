package oauth2

import (
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	s := NewStore()
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	tok, err := s.Issue("cred-1", "client-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 22 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q: want ≥ 128 bits, URL-safe", tok)
	}
	other, _ := s.Issue("cred-1", "client-1", time.Minute)
	if other == tok {
		t.Fatal("two issues gave the same token")
	}
	g, ok := s.Lookup(tok)
	if !ok || g.credentialID != "cred-1" || g.clientID != "client-1" {
		t.Fatalf("Lookup = %+v %v", g, ok)
	}
	for _, bad := range []string{"", tok[:len(tok)-1], tok + "x", strings.Repeat("a", 1000)} {
		if _, ok := s.Lookup(bad); ok {
			t.Errorf("Lookup(%q) found a grant", bad)
		}
	}
	clock = clock.Add(time.Minute)
	if _, ok := s.Lookup(tok); ok {
		t.Error("an expired token still works")
	}
	var nilStore *Store
	if _, ok := nilStore.Lookup(tok); ok {
		t.Error("a nil store found a token")
	}
}

func TestStoreBounds(t *testing.T) {
	s := NewStore()
	s.perCred = 3
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	var toks []string
	for range 5 {
		tok, _ := s.Issue("cred-1", "c", time.Minute)
		toks = append(toks, tok)
	}
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3: a credential's oldest tokens go first", s.Len())
	}
	if _, ok := s.Lookup(toks[0]); ok {
		t.Error("the oldest token survived eviction")
	}
	if _, ok := s.Lookup(toks[4]); !ok {
		t.Error("the newest token was evicted")
	}
	// Expired tokens are swept as new ones are issued.
	clock = clock.Add(2 * time.Minute)
	for i := range sweepEvery {
		_, _ = s.Issue("cred-"+string(rune('a'+i%20)), "c", time.Hour)
	}
	if n := s.Len(); n > 20*3 {
		t.Errorf("Len = %d after a sweep, want ≤ 60", n)
	}
}
