package controlplane

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/spec"
)

// TestCallBudgetKeepsFailedCalls: past its budget of a second, the
// collector keeps failed calls only, told apart on the encoder's own
// lines (a 200 whose backend answered 500 is not a failed call).
func TestCallBudgetKeepsFailedCalls(t *testing.T) {
	line := func(status, upstream int) []byte {
		return accesslog.AppendJSON(nil, &spec.CallRecord{Time: time.Now(), RequestID: "r", Group: "g", Method: "GET", Path: "/",
			Status: status, UpstreamStatus: upstream})
	}
	c := newCallCollector(nil, nil, 2)
	const now = 100
	for i, tc := range []struct {
		line []byte
		want bool
	}{
		{line(200, 200), true},
		{line(200, 200), true}, // the budget of the second is used up
		{line(200, 200), false},
		{line(200, 500), false},
		{line(502, 0), true},
		{line(404, 0), true},
		{line(503, 0), false}, // as many failed again, no more
	} {
		if got := c.admit(tc.line, now); got != tc.want {
			t.Errorf("line %d %s: admitted %v, want %v", i, tc.line, got, tc.want)
		}
	}
	if c.droppedCalls() != 3 {
		t.Errorf("dropped %d, want 3", c.droppedCalls())
	}
	if !c.admit(line(200, 200), now+1) {
		t.Errorf("a new second has a new budget")
	}
}
