package compose

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// def parses a composite backend written as JSON.
func def(t testing.TB, s string) *spec.CompositeBackend {
	t.Helper()
	var d spec.CompositeBackend
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("bad test definition: %v\n%s", err, s)
	}
	return &d
}

func mustCompile(t testing.TB, s string) *Flow {
	t.Helper()
	f, err := Compile(def(t, s))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return f
}

// fakeCaller answers calls with handle and records them.
type fakeCaller struct {
	mu     sync.Mutex
	calls  []Call
	handle func(ctx context.Context, c *Call) (*Answer, error)
}

func (f *fakeCaller) Call(ctx context.Context, c *Call) (*Answer, error) {
	f.mu.Lock()
	f.calls = append(f.calls, *c)
	f.mu.Unlock()
	return f.handle(ctx, c)
}

// call is the recorded call of step name (the last attempt).
func (f *fakeCaller) call(t *testing.T, name string) Call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].Step == name {
			return f.calls[i]
		}
	}
	t.Fatalf("step %s made no call", name)
	return Call{}
}

func jsonAnswer(status int, body string) *Answer {
	return &Answer{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

// byStep answers each step from a table.
func byStep(answers map[string]*Answer) func(context.Context, *Call) (*Answer, error) {
	return func(_ context.Context, c *Call) (*Answer, error) {
		if a, ok := answers[c.Step]; ok {
			return a, nil
		}
		return jsonAnswer(200, `{}`), nil
	}
}

// bodyOf decodes a result's JSON body.
func bodyOf(t *testing.T, r *Result) any {
	t.Helper()
	if r.Code != "" {
		t.Fatalf("the flow failed: %d %s %s", r.Status, r.Code, r.Message)
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("the answer is not JSON: %v: %s", err, r.Body)
	}
	return v
}

func jsonEqual(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	g, _ := json.Marshal(got)
	ws, _ := json.Marshal(w)
	if string(g) != string(ws) {
		t.Errorf("answer\n got %s\nwant %s", g, ws)
	}
}

func stepRecord(t *testing.T, r *Result, name string) (rec struct {
	Outcome, Error   string
	Status, Attempts int
}) {
	t.Helper()
	for _, s := range r.Steps {
		if s.Name == name {
			rec.Outcome, rec.Error, rec.Status, rec.Attempts = s.Outcome, s.Error, s.Status, s.Attempts
			return rec
		}
	}
	t.Fatalf("no record of step %s in %+v", name, r.Steps)
	return rec
}
