package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

func TestRunParallelThenDependent(t *testing.T) {
	f := mustCompile(t, `{"steps":[
		{"name":"user","service":"users","route":"get","params":{"id":"request.params.id"}},
		{"name":"orders","path":"/orders","query":{"user":"request.params.id"}},
		{"name":"greeting","service":"greet","route":"hello","query":{"name":"steps.user.body.name"}}
	],"response":{"body":"merge(steps.user.body, {\"orders\": map(steps.orders.body.items, {{\"id\": .id}}), \"greeting\": steps.greeting.body.text})"}}`)
	started := make(chan string, 2)
	both := make(chan struct{})
	fc := &fakeCaller{handle: func(ctx context.Context, c *Call) (*Answer, error) {
		switch c.Step {
		case "user", "orders":
			// Each of the first two waits until the other started: they
			// run in parallel or the test times out.
			started <- c.Step
			select {
			case <-both:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if c.Step == "user" {
				return jsonAnswer(200, `{"id":7,"name":"Ann"}`), nil
			}
			return jsonAnswer(200, `{"items":[{"id":1,"x":0},{"id":2}]}`), nil
		default:
			return jsonAnswer(200, `{"text":"hello `+url.Values{"q": {c.Query}}.Get("q")+`"}`), nil
		}
	}}
	go func() {
		<-started
		<-started
		close(both)
	}()
	res := f.Run(context.Background(), &Input{Params: map[string]string{"id": "7"}, RequestID: "rq", Client: netip.MustParseAddr("10.0.0.1")}, fc)
	jsonEqual(t, bodyOf(t, res), `{"id":7,"name":"Ann","orders":[{"id":1},{"id":2}],"greeting":"hello name=Ann"}`)
	if res.Status != 200 {
		t.Errorf("status %d", res.Status)
	}
	user := fc.call(t, "user")
	if user.Service != "users" || user.Route != "get" || user.Params["id"] != "7" || user.Method != "" || user.RequestID != "rq.user" || user.Client.String() != "10.0.0.1" {
		t.Errorf("user call = %+v", user)
	}
	orders := fc.call(t, "orders")
	if orders.Path != "/orders" || orders.Query != "user=7" || orders.Method != "GET" {
		t.Errorf("orders call = %+v", orders)
	}
	if len(res.Steps) != 3 {
		t.Fatalf("steps = %+v", res.Steps)
	}
	for _, s := range res.Steps {
		if s.Outcome != plugin.StepOK || s.Attempts != 1 || s.Status != 200 {
			t.Errorf("step %+v", s)
		}
	}
	if res.Steps[0].Target != "users/get" || res.Steps[1].Target != "upstream" || res.Steps[1].Path != "/orders" {
		t.Errorf("targets: %+v", res.Steps)
	}
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		def     string
		in      *Input
		answers map[string]*Answer
		errs    map[string]error
		// want: the answer's JSON, or the error's status, code and a
		// piece of its message
		want    string
		status  int
		code    string
		message string
		records map[string]string // step → outcome
	}{
		{
			name: "if skips",
			def: `{"steps":[{"name":"a","service":"s","route":"r","if":"request.query.full == \"1\"","fallback":{"n":0}}],
				"response":{"body":"{\"n\": steps.a.body.n, \"skipped\": steps.a.skipped, \"ok\": steps.a.ok}"}}`,
			in:      &Input{Query: url.Values{"full": {"0"}}},
			want:    `{"n":0,"skipped":true,"ok":false}`,
			records: map[string]string{"a": plugin.StepSkipped},
		},
		{
			name: "if runs",
			def: `{"steps":[{"name":"a","service":"s","route":"r","if":"request.query.full == \"1\"","fallback":{"n":0}}],
				"response":{"body":"{\"n\": steps.a.body.n, \"skipped\": steps.a.skipped}"}}`,
			in:      &Input{Query: url.Values{"full": {"1"}}},
			answers: map[string]*Answer{"a": jsonAnswer(200, `{"n":5}`)},
			want:    `{"n":5,"skipped":false}`,
		},
		{
			name: "optional failure falls back",
			def: `{"steps":[{"name":"a","service":"s","route":"r","optional":true,"fallback":[]},{"name":"b","service":"s","route":"r"}],
				"response":{"body":"{\"a\": steps.a.body, \"status\": steps.a.status, \"b\": steps.b.body}"}}`,
			answers: map[string]*Answer{"a": jsonAnswer(500, `{"error":"x"}`), "b": jsonAnswer(200, `true`)},
			want:    `{"a":[],"status":500,"b":true}`,
			records: map[string]string{"a": plugin.StepFallback, "b": plugin.StepOK},
		},
		{
			name:    "required failure",
			def:     `{"steps":[{"name":"user","service":"s","route":"r"}],"response":{"body":"steps.user.body"}}`,
			answers: map[string]*Answer{"user": jsonAnswer(404, `{}`)},
			status:  502, code: CodeStepFailed, message: `step "user" failed: status 404`,
			records: map[string]string{"user": plugin.StepFailed},
		},
		{
			name:   "not running",
			def:    `{"steps":[{"name":"user","service":"users","route":"get"}],"response":{"body":"steps.user.body"}}`,
			errs:   map[string]error{"user": ErrNotRunning},
			status: 502, code: CodeStepFailed, message: `step "user" failed: the API users/get does not run in this group`,
		},
		{
			name:   "transport error",
			def:    `{"steps":[{"name":"user","service":"users","route":"get"}],"response":{"body":"steps.user.body"}}`,
			errs:   map[string]error{"user": errors.New("connection refused")},
			status: 502, code: CodeStepFailed, message: `step "user" failed: connection refused`,
		},
		{
			name:   "expression fails at run time",
			def:    `{"steps":[{"name":"a","service":"s","route":"r","query":{"q":"request.body.x.y"}}],"response":{"body":"1"}}`,
			in:     &Input{Body: []byte(`{"x":1}`)},
			status: 502, code: CodeStepFailed, message: `steps[0].query.q`,
		},
		{
			name:    "expression fails at run time, optional",
			def:     `{"steps":[{"name":"a","service":"s","route":"r","optional":true,"fallback":"none","query":{"q":"request.body.x.y"}}],"response":{"body":"steps.a.body"}}`,
			in:      &Input{Body: []byte(`{"x":1}`)},
			want:    `"none"`,
			records: map[string]string{"a": plugin.StepFallback},
		},
		{
			name:    "response expression fails",
			def:     `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"steps.a.body.x.y"}}`,
			answers: map[string]*Answer{"a": jsonAnswer(200, `{"x":"s"}`)},
			status:  500, code: CodeResponseFailed, message: "response.body",
		},
		{
			name:    "text answers and request body",
			def:     `{"steps":[{"name":"a","service":"s","route":"r","body":"request.body"}],"response":{"body":"{\"a\": steps.a.body, \"in\": request.body, \"h\": steps.a.headers[\"x-n\"]}","status":201}}`,
			in:      &Input{Body: []byte(`{"k":[1,2]}`)},
			answers: map[string]*Answer{"a": {Status: 200, Header: http.Header{"Content-Type": {"text/plain"}, "X-N": {"1", "2"}}, Body: []byte("plain words")}},
			want:    `{"a":"plain words","in":{"k":[1,2]},"h":"1"}`,
		},
		{
			name:   "merge refuses a non-object",
			def:    `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"merge(steps.a.body, 1)"}}`,
			status: 500, code: CodeResponseFailed, message: "argument 2 is a number, not an object",
		},
		{
			name:    "merge: later keys win, nil is empty",
			def:     `{"steps":[{"name":"a","service":"s","route":"r"},{"name":"b","service":"s","route":"r"}],"response":{"body":"merge(steps.a.body, nil, steps.b.body)"}}`,
			answers: map[string]*Answer{"a": jsonAnswer(200, `{"x":1,"y":1}`), "b": jsonAnswer(200, `{"y":2,"z":2}`)},
			want:    `{"x":1,"y":2,"z":2}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCompile(t, tt.def)
			fc := &fakeCaller{handle: func(_ context.Context, c *Call) (*Answer, error) {
				if err := tt.errs[c.Step]; err != nil {
					return nil, err
				}
				if a, ok := tt.answers[c.Step]; ok {
					return a, nil
				}
				return jsonAnswer(200, `{}`), nil
			}}
			in := tt.in
			if in == nil {
				in = &Input{}
			}
			res := f.Run(context.Background(), in, fc)
			if tt.code != "" {
				if res.Status != tt.status || res.Code != tt.code || !strings.Contains(res.Message, tt.message) {
					t.Fatalf("got %d %s %q; want %d %s …%s…", res.Status, res.Code, res.Message, tt.status, tt.code, tt.message)
				}
			} else {
				jsonEqual(t, bodyOf(t, res), tt.want)
			}
			for name, outcome := range tt.records {
				if got := stepRecord(t, res, name).Outcome; got != outcome {
					t.Errorf("step %s: outcome %s, want %s", name, got, outcome)
				}
			}
		})
	}
}

func TestRunRequiredFailureCancelsOthers(t *testing.T) {
	f := mustCompile(t, `{"steps":[
		{"name":"slow","service":"s","route":"slow"},
		{"name":"bad","service":"s","route":"bad"},
		{"name":"later","service":"s","route":"r","after":["slow"]}
	],"response":{"body":"1"}}`)
	slowStarted := make(chan struct{})
	slowErr := make(chan error, 1)
	fc := &fakeCaller{handle: func(ctx context.Context, c *Call) (*Answer, error) {
		switch c.Step {
		case "slow":
			close(slowStarted)
			<-ctx.Done()
			slowErr <- ctx.Err()
			return nil, ctx.Err()
		case "bad":
			<-slowStarted
			return jsonAnswer(503, `{}`), nil
		}
		t.Errorf("step %s ran", c.Step)
		return nil, errors.New("unexpected")
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	if res.Status != 502 || res.Code != CodeStepFailed || res.Message != `step "bad" failed: status 503` || res.FailedStep != "bad" || res.StepStatus != 503 {
		t.Fatalf("result %+v", res)
	}
	if err := <-slowErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the slow step's context: %v", err)
	}
	if got := stepRecord(t, res, "slow").Outcome; got != plugin.StepCancelled {
		t.Errorf("slow: %s", got)
	}
	for _, s := range res.Steps {
		if s.Name == "later" {
			t.Errorf("a step after the failure began: %+v", s)
		}
	}
}

func TestRunDeadline(t *testing.T) {
	f := mustCompile(t, `{"timeout":0.05,"steps":[
		{"name":"fast","service":"s","route":"fast"},
		{"name":"slow","service":"s","route":"slow"}
	],"response":{"body":"1"}}`)
	slowErr := make(chan error, 1)
	fc := &fakeCaller{handle: func(ctx context.Context, c *Call) (*Answer, error) {
		if c.Step == "fast" {
			return jsonAnswer(200, `{}`), nil
		}
		<-ctx.Done() // the flow's deadline ends it
		slowErr <- ctx.Err()
		return nil, ctx.Err()
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	if res.Status != 504 || res.Code != CodeFlowTimeout || !strings.Contains(res.Message, "steps still running: slow") || strings.Contains(res.Message, "fast") {
		t.Fatalf("result %d %s %q", res.Status, res.Code, res.Message)
	}
	if err := <-slowErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow step's context: %v", err)
	}
	if got := stepRecord(t, res, "slow").Outcome; got != plugin.StepTimeout {
		t.Errorf("slow: %s", got)
	}
}

func TestRunClientGone(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"},{"name":"b","service":"s","route":"r"}],"response":{"body":"1"}}`)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 2)
	errs := make(chan error, 2)
	fc := &fakeCaller{handle: func(cctx context.Context, c *Call) (*Answer, error) {
		started <- struct{}{}
		<-cctx.Done()
		errs <- cctx.Err()
		return nil, cctx.Err()
	}}
	go func() {
		<-started
		<-started
		cancel()
	}()
	res := f.Run(ctx, &Input{}, fc)
	if res.Status != StatusClientClosed || res.Code != CodeClientClosed {
		t.Fatalf("result %+v", res)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("step context: %v", err)
		}
	}
	for _, s := range res.Steps {
		if s.Outcome != plugin.StepCancelled {
			t.Errorf("step %s: %s", s.Name, s.Outcome)
		}
	}
}

func TestRunRetries(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r","retries":2},{"name":"n","service":"s","route":"r","retries":3}],"response":{"body":"steps.a.body"}}`)
	// Each counter is touched by its own step's goroutine only.
	var aCount, nCount int
	fc := &fakeCaller{handle: func(_ context.Context, c *Call) (*Answer, error) {
		if c.Step == "a" {
			aCount++
			if aCount == 1 {
				return jsonAnswer(503, `{}`), nil
			}
			return jsonAnswer(200, `{"ok":1}`), nil
		}
		nCount++
		return jsonAnswer(404, `{}`), nil // not retried
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	if res.Code != CodeStepFailed || res.FailedStep != "n" {
		t.Fatalf("result %+v", res)
	}
	if nCount != 1 {
		t.Errorf("404 was tried %d times", nCount)
	}

	f = mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r","retries":2}],"response":{"body":"steps.a.body"}}`)
	aCount = 0
	res = f.Run(context.Background(), &Input{}, fc)
	jsonEqual(t, bodyOf(t, res), `{"ok":1}`)
	if r := stepRecord(t, res, "a"); r.Attempts != 2 || r.Outcome != plugin.StepOK {
		t.Errorf("record %+v", r)
	}
}

// TestRunFinalFailuresNotRetried: a composite's failure (Answer.Final)
// and a refused call (ErrRefused) are not tried again, so nested
// composites do not multiply their calls.
func TestRunFinalFailuresNotRetried(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r","retries":3,"optional":true},
		{"name":"b","service":"s","route":"r","retries":3,"optional":true}],"response":{"body":"[steps.a.body, steps.b.body]"}}`)
	fc := &fakeCaller{handle: func(_ context.Context, c *Call) (*Answer, error) {
		if c.Step == "a" {
			a := jsonAnswer(502, `{}`)
			a.Final = true
			return a, nil
		}
		return nil, fmt.Errorf("nested too deeply: %w", ErrRefused)
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	for _, name := range []string{"a", "b"} {
		if r := stepRecord(t, res, name); r.Attempts != 1 || r.Outcome != plugin.StepFallback {
			t.Errorf("step %s: %+v, want one attempt and its fallback", name, r)
		}
	}
}

// TestRunAnswersBudget: the answers a run holds count against its memory
// budget, so many large answers end the flow instead of piling up.
func TestRunAnswersBudget(t *testing.T) {
	var steps []string
	for i := range 10 {
		steps = append(steps, fmt.Sprintf(`{"name":"s%d","service":"s","route":"r"}`, i))
	}
	f := mustCompile(t, `{"steps":[`+strings.Join(steps, ",")+`],"response":{"body":"1"}}`)
	big := append([]byte{'"'}, append(bytes.Repeat([]byte("x"), MaxAnswer-2), '"')...)
	fc := &fakeCaller{handle: func(context.Context, *Call) (*Answer, error) {
		return &Answer{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: big}, nil
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	if res.Code != CodeStepFailed || !strings.Contains(res.Message, "memory budget") {
		t.Errorf("ten answers of 8 MiB: %d %s %s, want a step failed on the memory budget", res.Status, res.Code, res.Message)
	}
}

func TestRunStepTimeoutRetried(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r","timeout":0.01,"retries":1}],"response":{"body":"steps.a.body"}}`)
	n := 0
	fc := &fakeCaller{handle: func(ctx context.Context, c *Call) (*Answer, error) {
		n++
		if n == 1 {
			<-ctx.Done() // the attempt's own timeout
			return nil, ctx.Err()
		}
		return jsonAnswer(200, `2`), nil
	}}
	res := f.Run(context.Background(), &Input{}, fc)
	jsonEqual(t, bodyOf(t, res), `2`)
	if r := stepRecord(t, res, "a"); r.Attempts != 2 {
		t.Errorf("record %+v", r)
	}
}

func TestRunEncoding(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","path":"/files/{name}/v/:v","method":"POST",
		"params":{"name":"request.params.name","v":"2.5"},
		"query":{"ids":"[1, 2.5, \"a b\", nil, true, 10000000000]","none":"nil","n":"-3"},
		"headers":{"X-List":"[\"a\", \"b\"]","X-Num":"1e3","X-None":"nil"},
		"body":"{\"ids\": map(request.body, # * 2)}"}],
		"response":{"body":"1","headers":{"X-Out":"\"o\"","X-Null":"nil"}}}`)
	fc := &fakeCaller{handle: byStep(nil)}
	res := f.Run(context.Background(), &Input{Params: map[string]string{"name": "../admin"}, Body: []byte(`[1,2]`), TraceID: "0af7651916cd43dd8448eb211c80319c", RequestID: "r1"}, fc)
	bodyOf(t, res)
	c := fc.call(t, "a")
	if c.Path != "/files/..%2Fadmin/v/2.5" {
		t.Errorf("path %q", c.Path)
	}
	if c.Method != "POST" {
		t.Errorf("method %q", c.Method)
	}
	if c.Query != "ids=1&ids=2.5&ids=a+b&ids=true&ids=10000000000&n=-3" {
		t.Errorf("query %q", c.Query)
	}
	if c.Header.Get("X-List") != "a, b" || c.Header.Get("X-Num") != "1000" || c.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", c.Header)
	}
	if _, ok := c.Header["X-None"]; ok {
		t.Errorf("a null header was sent")
	}
	if string(c.Body) != `{"ids":[2,4]}` {
		t.Errorf("body %s", c.Body)
	}
	if !strings.HasPrefix(c.TraceParent, "00-0af7651916cd43dd8448eb211c80319c-") || len(c.TraceParent) != 55 || !strings.HasSuffix(c.TraceParent, "-01") {
		t.Errorf("traceparent %q", c.TraceParent)
	}
	if res.Steps[0].SpanID == ([8]byte{}) {
		t.Errorf("no span id")
	}
	if len(res.Header) != 2 || res.Header[0] != (HeaderField{"X-Out", "o"}) || res.Header[1].Name != "Content-Type" {
		t.Errorf("answer headers %v", res.Header)
	}
}

func TestRunPathEscaping(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","path":"/files/{name}","params":{"name":"request.query.name"}},
		{"name":"w","path":"/raw/*","params":{"*":"request.query.rest"}}],"response":{"body":"1"}}`)
	tests := []struct{ name, rest, path, wild string }{
		{"../admin", "x/y", "/files/..%2Fadmin", "/raw/x/y"},
		{"..", "../../etc/passwd", "/files/%2E%2E", "/raw/%2E%2E/%2E%2E/etc/passwd"},
		{".", "a%2Fb", "/files/%2E", "/raw/a%252Fb"},
		{"a b?c#d", "./q", "/files/a%20b%3Fc%23d", "/raw/%2E/q"},
	}
	for _, tt := range tests {
		fc := &fakeCaller{handle: byStep(nil)}
		res := f.Run(context.Background(), &Input{Query: url.Values{"name": {tt.name}, "rest": {tt.rest}}}, fc)
		bodyOf(t, res)
		if p := fc.call(t, "a").Path; p != tt.path {
			t.Errorf("%q → %q, want %q", tt.name, p, tt.path)
		}
		if p := fc.call(t, "w").Path; p != tt.wild {
			t.Errorf("%q → %q, want %q", tt.rest, p, tt.wild)
		}
	}
	// No value: the step fails, nothing is called.
	fc := &fakeCaller{handle: byStep(nil)}
	res := f.Run(context.Background(), &Input{}, fc)
	if res.Code != CodeStepFailed || !strings.Contains(res.Message, "has no value") {
		t.Errorf("result %+v", res)
	}
}

func TestRunRefusesBadValues(t *testing.T) {
	tests := []struct{ entry, expr, message string }{
		{"headers", `"a\nb"`, "control character"},
		{"headers", `{"a": 1}`, "not an object"},
		{"query", `{"a": 1}`, "not an object"},
		{"query", `[[1]]`, "element 0"},
		{"params", `[1]`, "not an array"},
	}
	for _, tt := range tests {
		name := "x"
		if tt.entry == "headers" {
			name = "X-V"
		}
		path := ""
		if tt.entry == "params" {
			path = `"path":"/a/{x}",`
		} else {
			path = `"service":"s","route":"r",`
		}
		f := mustCompile(t, `{"steps":[{"name":"a",`+path+`"`+tt.entry+`":{"`+name+`":`+quote(tt.expr)+`}}],"response":{"body":"1"}}`)
		res := f.Run(context.Background(), &Input{}, &fakeCaller{handle: byStep(nil)})
		if res.Code != CodeStepFailed || !strings.Contains(res.Message, tt.message) {
			t.Errorf("%s %s: %+v", tt.entry, tt.expr, res)
		}
	}
}

func quote(s string) string {
	b := strings.Builder{}
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestRunHostileExpressions(t *testing.T) {
	arr := "[" + strings.Repeat("1,", 3000) + "1]"
	tests := []struct{ name, body, message string }{
		{"huge range", `1..100000000`, "memory budget"},
		{"huge repeat", `repeat("x", 1000000000)`, "memory budget"},
		{"doubling string", `reduce(1..64, #acc + #acc, "x")`, "memory budget"},
		{"exponential tree as JSON", `reduce(1..40, [#acc, #acc], 1)`, "larger than 8 MiB"},
		{"exponential tree in toJSON", `toJSON(reduce(1..40, [#acc, #acc], 1))`, "too large"},
		{"exponential tree flattened", `flatten(reduce(1..40, [#acc, #acc], 1))`, "memory budget"},
		{"deep nesting", `reduce(1..100000, [#acc], 1)`, "nested too deeply"},
		{"nested loops", `all(request.body, all(request.body, all(request.body, true)))`, "iterates too much"},
		{"concat many", `concat(` + strings.Repeat("1..900000, ", 5) + `[1])`, "memory budget"},
		{"replace growth", `replace(repeat("a", 100000), "a", repeat("b", 1000))`, "memory budget"},
		{"join growth", `join(map(1..100000, repeat("z", 1000)), ",")`, "memory budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":`+quote(tt.body)+`}}`)
			res := f.Run(context.Background(), &Input{Body: []byte(arr)}, &fakeCaller{handle: byStep(nil)})
			if res.Code != CodeResponseFailed || !strings.Contains(res.Message, tt.message) {
				t.Fatalf("result %d %s %q; want …%s…", res.Status, res.Code, res.Message, tt.message)
			}
		})
	}
}

func TestRunAnswerTooLarge(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"[steps.a.body, steps.a.body]"}}`)
	big := jsonAnswer(200, `"`+strings.Repeat("x", 5<<20)+`"`)
	res := f.Run(context.Background(), &Input{}, &fakeCaller{handle: byStep(map[string]*Answer{"a": big})})
	if res.Code != CodeResponseFailed || !strings.Contains(res.Message, "larger than 8 MiB") {
		t.Fatalf("result %d %s %q", res.Status, res.Code, res.Message)
	}
	big = jsonAnswer(200, `"`+strings.Repeat("x", MaxAnswer)+`"`)
	res = f.Run(context.Background(), &Input{}, &fakeCaller{handle: byStep(map[string]*Answer{"a": big})})
	if res.Code != CodeStepFailed || !strings.Contains(res.Message, "larger than") {
		t.Fatalf("result %d %s %q", res.Status, res.Code, res.Message)
	}
}

func TestRunBigIntegers(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"},{"name":"b","service":"s","route":"r","query":{"id":"steps.a.body.id"}}],"response":{"body":"steps.a.body"}}`)
	fc := &fakeCaller{handle: byStep(map[string]*Answer{"a": jsonAnswer(200, `{"id":9007199254740993,"f":1.5}`)})}
	res := f.Run(context.Background(), &Input{}, fc)
	if string(res.Body) != `{"f":1.5,"id":9007199254740993}` {
		t.Errorf("body %s", res.Body)
	}
	if q := fc.call(t, "b").Query; q != "id=9007199254740993" {
		t.Errorf("query %s", q)
	}
}

func BenchmarkRun(b *testing.B) {
	f := mustCompile(b, `{"steps":[
		{"name":"user","service":"users","route":"get","params":{"id":"request.params.id"}},
		{"name":"orders","service":"orders","route":"list","query":{"user":"request.params.id"}}
	],"response":{"body":"merge(steps.user.body, {\"orders\": steps.orders.body.items})"}}`)
	user := jsonAnswer(200, `{"id":7,"name":"Ann"}`)
	orders := jsonAnswer(200, `{"items":[{"id":1},{"id":2}]}`)
	fc := &fakeCaller{handle: func(_ context.Context, c *Call) (*Answer, error) {
		if c.Step == "user" {
			return user, nil
		}
		return orders, nil
	}}
	in := &Input{Params: map[string]string{"id": "7"}, RequestID: "r"}
	b.ReportAllocs()
	for b.Loop() {
		fc.calls = fc.calls[:0]
		res := f.Run(context.Background(), in, fc)
		if res.Code != "" {
			b.Fatal(res.Message)
		}
	}
}
