package requestid

import "testing"

func TestNewUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if seen[id] || !Valid(id) {
			t.Fatalf("id %q repeated or invalid", id)
		}
		seen[id] = true
	}
}

func TestValid(t *testing.T) {
	long := make([]byte, MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{string(long), false},
		{"ünicode", false},
	} {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
