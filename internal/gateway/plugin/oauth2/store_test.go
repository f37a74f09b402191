package oauth2

import (
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	s := NewStore(key)
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	tok, err := s.Issue("cred-1", "client-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "+/= ") {
		t.Fatalf("token %q: want URL-safe", tok)
	}
	other, _ := s.Issue("cred-1", "client-1", time.Minute)
	if other == tok {
		t.Fatal("two issues gave the same token")
	}
	g, ok := s.Lookup(tok)
	if !ok || g.credentialID != "cred-1" || g.clientID != "client-1" {
		t.Fatalf("Lookup = %+v %v", g, ok)
	}
	// Another gateway with the same key accepts it; one with another key
	// does not.
	same := NewStore(key)
	same.now = s.now
	if g, ok := same.Lookup(tok); !ok || g.credentialID != "cred-1" {
		t.Errorf("a store of the same key: %+v %v", g, ok)
	}
	if _, ok := NewStore(nil).Lookup(tok); ok {
		t.Error("a store of another key accepted the token")
	}
	body, sig, _ := strings.Cut(tok, ".")
	forged := body[:len(body)-2] + "AA." + sig // another client id or expiry, same MAC
	for _, bad := range []string{"", tok[:len(tok)-1], tok + "x", forged, body, "." + sig, strings.Repeat("a", 5000)} {
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
	if _, err := s.Issue(strings.Repeat("c", 256), "x", time.Minute); err == nil {
		t.Error("an id longer than a token carries was issued")
	}
	long, err := s.Issue(strings.Repeat("c", 255), strings.Repeat("d", 255), time.Hour)
	if err != nil || len(long) > maxTokenLen {
		t.Errorf("the longest token: %d bytes, bound %d, %v", len(long), maxTokenLen, err)
	}
	if _, ok := s.Lookup(long); !ok {
		t.Error("the longest token is refused")
	}
}

// FuzzLookup: whatever a client sends as a bearer token, Lookup never
// panics and accepts only what the key signed.
func FuzzLookup(f *testing.F) {
	s := NewStore([]byte(strings.Repeat("k", 32)))
	good, _ := s.Issue("cred", "client", time.Hour)
	f.Add(good)
	f.Add("AQ.AQ")
	f.Add(strings.Repeat(".", 10))
	f.Fuzz(func(t *testing.T, tok string) {
		g, ok := s.Lookup(tok)
		if ok && tok != good && (g.credentialID != "cred" || g.clientID != "client") {
			t.Fatalf("a token not issued here was accepted: %q → %+v", tok, g)
		}
	})
}
