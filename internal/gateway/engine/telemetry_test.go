package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/tracing"
	"github.com/portico-gw/portico/internal/spec"
)

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

// TestSteps: a composite backend's steps as the record writes them
// (starts from the request's arrival, in milliseconds) and as the trace
// takes them; Reset lets go of them.
func TestSteps(t *testing.T) {
	arrival := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []plugin.Step{
		{Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200, Outcome: plugin.StepOK, Attempts: 1,
			Start: arrival.Add(1500 * time.Microsecond), Duration: 2 * time.Millisecond, SpanID: [8]byte{1}},
		{Name: "later", Target: "upstream", Outcome: plugin.StepSkipped, Start: arrival.Add(-time.Millisecond)},
	}
	var c Call
	got := c.callSteps(steps, arrival)
	want := []spec.CallStep{
		{Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200, Outcome: "ok", Attempts: 1, StartMs: 1.5, LatencyMs: 2},
		{Name: "later", Target: "upstream", Outcome: "skipped"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record steps\n got %+v\nwant %+v", got, want)
	}
	spans := c.stepSpans(steps)
	if len(spans.List) != 2 || spans.List[0].SpanID != (tracing.SpanID{1}) ||
		spans.List[0].End-spans.List[0].Start != int64(2*time.Millisecond) || spans.List[1].Outcome != "skipped" {
		t.Errorf("trace steps %+v", spans.List)
	}
	c.Reset()
	if len(c.steps) != 0 || len(c.traceSteps.List) != 0 || c.steps[:1][0].Name != "" {
		t.Errorf("Reset kept steps %+v", c.steps[:cap(c.steps)])
	}
}
