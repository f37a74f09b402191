package plugin

import "testing"

func TestCookieValue(t *testing.T) {
	for _, tt := range []struct{ header, name, want string }{
		{"", "a", ""}, {"a=1", "a", "1"}, {" a = 1", "a", ""}, {"b=2;a=1", "a", "1"},
		{"b=2; a=", "a", ""}, {"ab=1; a=2", "a", "2"}, {"a=1; a=2", "a", "1"},
	} {
		if got := cookieValue(tt.header, tt.name); got != tt.want {
			t.Errorf("cookieValue(%q, %q) = %q, want %q", tt.header, tt.name, got, tt.want)
		}
	}
}
