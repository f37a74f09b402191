package webpage

import (
	"strings"
	"testing"
)

// The console's and the portal's own tests try their targets in full;
// these are where the two roots part.
func TestLocalRedirect(t *testing.T) {
	for _, tc := range []struct{ in, root, want string }{
		{"/p/x?flash=saved", "/", "/p/x?flash=saved"},
		{"/users", "/", "/users"},
		{"/a/../b", "/", "/a/../b"}, // stays on the site
		{"/%2e%2e/b", "/", "/%2e%2e/b"},
		{"//evil.example", "/", "home"},
		{"/\\evil.example", "/", "home"},
		{"/%2F/evil.example", "/", "home"},
		{"/" + strings.Repeat("a", MaxRedirect), "/", "home"},
		{"/portal", "/portal", "/portal"},
		{"/portal?x=1", "/portal", "/portal?x=1"},
		{"/portal/apps", "/portal", "/portal/apps"},
		{"/users", "/portal", "home"},
		{"/portalx", "/portal", "home"},
		{"/portal/../users", "/portal", "home"},
		{"/portal/%2e%2e/users", "/portal", "home"},
		{"/portal/a?b=%2e", "/portal", "/portal/a?b=%2e"},
		{"", "/portal", "home"},
	} {
		if got := LocalRedirect(tc.in, tc.root, "home"); got != tc.want {
			t.Errorf("LocalRedirect(%q, %q) = %q, want %q", tc.in, tc.root, got, tc.want)
		}
	}
}
