package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// backing adds the request body and context to the test engine.
type backing struct {
	*plugintest.Backing
	body []byte
	ctx  context.Context
}

func (b *backing) RequestBody() io.Reader   { return bytes.NewReader(b.body) }
func (b *backing) Context() context.Context { return b.ctx }
func (b *backing) exchange() *plugin.Exchange {
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "g", ServiceName: "svc"}, RouteName: "r"}, nil)
	ex.SetTraceID("0af7651916cd43dd8448eb211c80319c")
	return ex
}

func TestFilter(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r",
		"query":{"q":"request.query.q","h":"request.headers[\"x-h\"]"},"body":"request.body"}],
		"response":{"body":"{\"got\": steps.a.body, \"method\": request.method, \"path\": request.path}","status":201,"headers":{"X-Step":"steps.a.status"}}}`)
	fc := &fakeCaller{handle: byStep(map[string]*Answer{"a": jsonAnswer(200, `{"v":1}`)})}
	b := &backing{Backing: plugintest.New("10.1.2.3"), body: []byte(`{"in":true}`), ctx: context.Background()}
	b.ReqMethod, b.ReqPath, b.ReqRawQuery, b.Length = "POST", "/agg", "q=a%20b&q=2", 11
	b.ReqHeader.Set("X-H", "hv")
	ex := b.exchange()
	if stop := NewFilter(f, fc).OnRequest(ex); !stop {
		t.Fatal("the filter did not answer")
	}
	if b.Responses != 1 || b.Status != 201 {
		t.Fatalf("answered %d times, status %d, error %s", b.Responses, b.Status, b.ErrorBody)
	}
	var got any
	_ = json.Unmarshal(b.RespBody, &got)
	jsonEqual(t, got, `{"got":{"v":1},"method":"POST","path":"/agg"}`)
	if b.RespHeader.Get("Content-Type") != "application/json" || b.RespHeader.Get("X-Step") != "200" {
		t.Errorf("headers %v", b.RespHeader)
	}
	c := fc.call(t, "a")
	if c.Query != "h=hv&q=a+b" || string(c.Body) != `{"in":true}` || c.RequestID != "req-1.a" || c.Client.String() != "10.1.2.3" || c.TraceParent == "" {
		t.Errorf("call %+v", c)
	}
	if steps := ex.Steps(); len(steps) != 1 || steps[0].Outcome != plugin.StepOK {
		t.Errorf("steps %+v", steps)
	}
}

func TestFilterErrors(t *testing.T) {
	f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"steps.a.body"}}`)
	fc := &fakeCaller{handle: byStep(map[string]*Answer{"a": jsonAnswer(404, `{}`)})}

	b := &backing{Backing: plugintest.New("10.1.2.3"), ctx: context.Background()}
	NewFilter(f, fc).OnRequest(b.exchange())
	if b.ErrorStatus != 502 || !strings.Contains(string(b.ErrorBody), `step \"a\" failed: status 404`) || !strings.Contains(string(b.ErrorBody), "step_failed") {
		t.Errorf("error %d %s", b.ErrorStatus, b.ErrorBody)
	}

	b = &backing{Backing: plugintest.New("10.1.2.3"), body: bytes.Repeat([]byte("x"), MaxRequestBody+1), ctx: context.Background()}
	b.Length = -1
	NewFilter(f, fc).OnRequest(b.exchange())
	if b.ErrorStatus != 413 || !strings.Contains(string(b.ErrorBody), "body_too_large") {
		t.Errorf("error %d %s", b.ErrorStatus, b.ErrorBody)
	}
}
