package engine

import (
	"testing"
	"time"
)

// A field left at 0 ("never moved") must read as longer ago than any
// timeout, even right after the process started: the deadline code moves
// a deadline when now minus the field exceeds a share of the timeout.
func TestMonotonicZeroIsLongAgo(t *testing.T) {
	a := Monotonic()
	if a-0 < int64(24*time.Hour) {
		t.Fatalf("Monotonic() = %d: 0 is only %v ago", a, time.Duration(a))
	}
	time.Sleep(time.Millisecond) // the clock has to move; nothing waits on this
	if b := Monotonic(); b-a < int64(time.Millisecond) {
		t.Fatalf("Monotonic moved %v across a 1 ms sleep", time.Duration(b-a))
	}
}
