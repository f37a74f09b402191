package engine

import "testing"

// TestCallBudget: PerSecond calls a second, then failed ones only, as
// many again; a new second starts afresh.
func TestCallBudget(t *testing.T) {
	b := &CallBudget{PerSecond: 2}
	for i, c := range []struct {
		status int
		now    int64
		want   bool
	}{
		{200, 10, true}, {200, 10, true}, {200, 10, false}, {502, 10, true}, {404, 10, true}, {500, 10, false},
		{200, 11, true},
	} {
		if got := b.Admit(c.status, c.now); got != c.want {
			t.Errorf("call %d (%d at %d): admitted %v, want %v", i, c.status, c.now, got, c.want)
		}
	}
	if b.Dropped() != 2 {
		t.Errorf("dropped %d, want 2", b.Dropped())
	}
	var none *CallBudget
	if !none.Admit(200, 1) {
		t.Errorf("no budget keeps every call")
	}
}
