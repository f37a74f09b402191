package limitreq

import (
	"testing"
	"time"
	"unsafe"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// TestHeaderKeyIsNotTheEnginesBuffer: a header's key is the engine's view
// of its request buffer, which the next request overwrites. A second
// request of a key must not leave that view in the buckets: once the
// buffer reads another client's value, the first client must still meet
// its own bucket (not a fresh one: a way around the limit), and the other
// client its own.
func TestHeaderKeyIsNotTheEnginesBuffer(t *testing.T) {
	buf := []byte("a")
	view := unsafe.String(&buf[0], len(buf)) // as the fast engine hands a header over
	b := &buckets{tat: map[plugin.RequestKey]*int64{}}
	now := time.Unix(1_800_000_000, 0).UnixNano()
	interval, burst := int64(time.Second), 5*int64(time.Second)
	for i := range 2 {
		if _, ok := b.take(now, plugin.RequestKey{Kind: plugin.KeyHeader, S: view}, interval, burst); !ok {
			t.Fatalf("client a's request %d refused", i+1)
		}
	}
	buf[0] = 'b' // the next request, in the same buffer
	if ahead, _ := b.take(now, plugin.RequestKey{Kind: plugin.KeyHeader, S: "a"}, interval, burst); ahead != 2*interval {
		t.Errorf("client a's third request is %v ahead of the rate, want %v (its bucket was lost)", time.Duration(ahead), time.Duration(2*interval))
	}
	if ahead, _ := b.take(now, plugin.RequestKey{Kind: plugin.KeyHeader, S: "b"}, interval, burst); ahead != 0 {
		t.Errorf("client b's first request is %v ahead of the rate, want 0 (another client's bucket)", time.Duration(ahead))
	}
}
