package basicauth

import (
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

// TestFailedNameIsNotTheRequestsBuffer: the name of a failed login may be
// a view of the request's buffer, which the next request overwrites. A
// repeated failure must not leave that view in the counts: once the
// buffer reads another name, the first name's failures must still block
// it (otherwise a brute force resets its own count).
func TestFailedNameIsNotTheRequestsBuffer(t *testing.T) {
	buf := []byte("alice")
	view := unsafe.String(&buf[0], len(buf))
	g := newGuard(1, 1, 16)
	now := time.Unix(1_800_000_000, 0).UnixNano()
	for i := range maxFailures {
		// Each failure from another address: only the name's count blocks.
		g.failed(now, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), view)
	}
	copy(buf, "bobby") // the next request, in the same buffer
	if blocked, _ := g.blocked(now, netip.MustParseAddr("198.51.100.1"), "alice"); !blocked {
		t.Error("alice is not blocked after maxFailures failures: her count was lost")
	}
	if blocked, _ := g.blocked(now, netip.MustParseAddr("198.51.100.1"), "bobby"); blocked {
		t.Error("bobby is blocked by alice's failures")
	}
}
