package reqpolicy

import "testing"

func TestVersionReason(t *testing.T) {
	for proto, want := range map[string]string{
		"HTTP/1.1": "", "HTTP/1.0": "",
		"HTTP/9.9": ReasonNoSuchVersion, "HTTP/2.0": ReasonNoSuchVersion, "HTTP/0.9": ReasonNoSuchVersion,
		"HTTP/1.2": ReasonBadVersion, "HTTP/1.10": ReasonBadVersion, "HTTP/11": ReasonBadVersion, "http/1.1": ReasonBadVersion,
		"HTTP/x.1": ReasonBadVersion, "": ReasonBadVersion, "HTTP/": ReasonBadVersion,
	} {
		if got := VersionReason([]byte(proto)); got != want {
			t.Errorf("%q: %q, want %q", proto, got, want)
		}
	}
	if status, _ := Rejection(ReasonNoSuchVersion); status != 505 {
		t.Errorf("no such version: %d, want 505", status)
	}
	if status, _ := Rejection(ReasonBadVersion); status != 400 {
		t.Errorf("bad version: %d, want 400", status)
	}
}
