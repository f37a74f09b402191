package compose

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// FuzzCompile feeds Compile hostile definitions: any JSON decoded into
// the backend's struct, and a generated flow whose expressions, step
// names and waits come from the input. Compile must not panic; a flow it
// accepts must run (against a fake caller, under a short deadline)
// without panicking and within reason.
func FuzzCompile(f *testing.F) {
	seeds := []struct{ raw, expr string }{
		{`{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"steps.a.body"}}`, `steps.a.body`},
		{`{"steps":[{"name":"a","service":"s","route":"r","after":["b"]},{"name":"b","service":"s","route":"r","after":["a"]}],"response":{"body":"1"}}`, `steps.b.body`},
		{`{"steps":[{"name":"a","path":"/x/{id}","params":{"id":"request.params.id"}}],"response":{"body":"1"}}`, `1..100000000`},
		{`{"timeout":1e308,"steps":[{"name":"a","service":"s","route":"r","retries":1000000,"timeout":-5}],"response":{"body":"1","status":-1}}`, `repeat("x", 1e9)`},
		{`{"steps":null,"response":{}}`, strings.Repeat("(", 3000) + "1" + strings.Repeat(")", 3000)},
		{`[]`, strings.Repeat("[", 2000) + strings.Repeat("]", 2000)},
		{`{"steps":[{"name":"a","fallback":[[[[[[[[[[[[[[]]]]]]]]]]]]]]}]}`, `reduce(1..64, #acc + #acc, "x")`},
		{`{}`, `toJSON(reduce(1..50, [#acc, #acc], 1))`},
		{`{}`, `keys(steps)`},
		{`{}`, `$env`},
		{`{}`, `all(1..1000, all(1..1000, all(1..1000, true)))`},
		{`{}`, `steps[request.query.x]`},
		{`{}`, `merge(steps.a.body, {"x": request.headers["x-a"]})`},
		{`{}`, strings.Repeat("-", 4000) + "1"},
		{`{}`, `"` + strings.Repeat("a", 5000) + `"`},
		{`{}`, `let x = steps; x.a`},
		{`{}`, `flatten(reduce(1..30, [#acc, #acc], 1))`},
		{`{}`, `map(1..100000, {{"a": #}}) | toJSON()`},
	}
	for _, s := range seeds {
		f.Add([]byte(s.raw), s.expr)
	}
	f.Fuzz(func(t *testing.T, raw []byte, e string) {
		var d spec.CompositeBackend
		if json.Unmarshal(raw, &d) == nil {
			tryFlow(t, &d)
		}
		tryFlow(t, generated(raw, e))
	})
}

// generated builds a flow from the input: step names and waits from its
// bytes (cycles included), e in every expression.
func generated(raw []byte, e string) *spec.CompositeBackend {
	names := []string{"a", "b", "c", "d"}
	d := &spec.CompositeBackend{Timeout: 0.2, Response: spec.CompositeResponse{Body: e, Headers: map[string]string{"X-E": e}}}
	for i, n := range names {
		s := spec.CompositeStep{Name: n, Service: "s", Route: "r", Body: e, Query: map[string]string{"q": e}}
		if i < len(raw) {
			b := raw[i]
			if b&1 != 0 {
				s.If = e
			}
			if b&2 != 0 {
				s.Optional, s.Fallback = true, json.RawMessage(`{"x":1}`)
			}
			if b&4 != 0 {
				s.Path, s.Service, s.Route = "/p/{id}", "", ""
				s.Params = map[string]string{"id": e}
			}
			s.After = append(s.After, names[int(b>>3)%len(names)])
			if b&8 != 0 {
				s.Retries = 2
			}
		}
		d.Steps = append(d.Steps, s)
	}
	return d
}

func tryFlow(t *testing.T, d *spec.CompositeBackend) {
	start := time.Now()
	flow, err := Compile(d)
	if err != nil {
		var fe *FieldError
		for _, e := range unjoin(err) {
			if !errors.As(e, &fe) {
				t.Fatalf("a compile error that is not a *FieldError: %v", e)
			}
		}
		return
	}
	if flow.timeout > time.Second {
		flow.timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	fc := &fakeCaller{handle: func(ctx context.Context, c *Call) (*Answer, error) {
		switch len(c.Body) % 3 {
		case 0:
			return jsonAnswer(200, `{"items":[1,2,3],"id":"x"}`), nil
		case 1:
			return jsonAnswer(503, `oops`), nil
		}
		return nil, errors.New("down")
	}}
	res := flow.Run(ctx, &Input{Params: map[string]string{"id": "../x"}, Body: []byte(`[1,{"a":null}]`), TraceID: "0af7651916cd43dd8448eb211c80319c"}, fc)
	if res == nil {
		t.Fatal("Run returned nil")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("compile and run took %s", d)
	}
}
