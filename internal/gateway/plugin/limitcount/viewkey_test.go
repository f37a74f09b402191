package limitcount

import (
	"testing"
	"time"
	"unsafe"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// TestHeaderKeyIsNotTheEnginesBuffer: a header's key is the engine's view
// of its request buffer, which the next request overwrites. A second hit
// of a key must not leave that view in the counts: when the buffer then
// reads another tenant's value, that tenant gets its own quota, not the
// first one's count.
func TestHeaderKeyIsNotTheEnginesBuffer(t *testing.T) {
	buf := []byte("a")
	view := unsafe.String(&buf[0], len(buf)) // as the fast engine hands a header over
	var w window
	now := time.Unix(1_800_000_000, 0)
	for range 3 {
		w.hit(now, time.Hour, plugin.RequestKey{Kind: plugin.KeyHeader, S: view})
	}
	buf[0] = 'b' // the next request, in the same buffer
	if used, _ := w.hit(now, time.Hour, plugin.RequestKey{Kind: plugin.KeyHeader, S: "b"}); used != 1 {
		t.Errorf("tenant b's first request counts %d, want 1 (tenant a's count leaked to it)", used)
	}
	if used, _ := w.hit(now, time.Hour, plugin.RequestKey{Kind: plugin.KeyHeader, S: "a"}); used != 4 {
		t.Errorf("tenant a's fourth request counts %d, want 4", used)
	}
}
