package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRequestValidation publishes a route whose OpenAPI operation declares
// a query parameter and a JSON body (its schema a component of the
// service's document) with request-validation on, and calls it through
// the real binary's gateway on both engines: a request with a wrong type
// and a missing required field is answered 400 naming both, before the
// backend; a body of an undeclared media type 415; a valid one reaches the
// backend with its body intact.
func TestRequestValidation(t *testing.T) {
	for _, engine := range attackEngines {
		t.Run(engine, func(t *testing.T) { requestValidation(t, engine) })
	}
}

func requestValidation(t *testing.T, engine string) {
	var hits atomic.Int64
	var lastBody atomic.Value
	port := keptBodyBackend(t, &hits, &lastBody)
	s := startServer(t, t.TempDir(), "--engine", engine)

	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"orders","protocols":["http"],
		"openapi":{"components":{"schemas":{"Order":{"type":"object","required":["user","items"],"properties":{
			"user":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}},
			"items":{"type":"array","items":{"type":"object","properties":{"qty":{"type":"integer","minimum":1}}}}}}}}}}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"create-order","paths":["/orders"],"methods":["POST"],
		"plugins":{"request-validation":{"max_body_bytes":4096}},
		"openapi":{"parameters":[{"name":"limit","in":"query","schema":{"type":"integer"}}],
			"requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Order"}}}}}}`, 201, nil)
	// A configuration member the plugin does not know is refused when saved.
	b := s.do(t, "POST", base+"/routes", `{"name":"bad","paths":["/bad"],"plugins":{"request-validation":{"bodies":true}}}`, 400, nil)
	if !strings.Contains(string(b), "plugins.request-validation") || !strings.Contains(string(b), "bodies") {
		t.Errorf("unknown member: %s", b)
	}
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	url := s.Gateway + "/orders"
	post := func(query, contentType, body string) (int, []byte) {
		req, err := http.NewRequest("POST", url+query, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	valid := `{"user":{"name":"Ada"},"items":[{"qty":2}]}`
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, out := post("?limit=5", "application/json", valid)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the published route answered %d %s", status, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := lastBody.Load(); got != valid {
		t.Errorf("the backend got %q, want the body as sent", got)
	}

	before := hits.Load()
	status, out := post("?limit=ten", "application/json", `{"items":[{"qty":0}]}`)
	var e struct {
		Error struct {
			Code, Message string
			Fields        []struct{ Field, Message string }
		}
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(out, &e); err != nil || status != 400 || e.Error.Code != "request_invalid" || e.RequestID == "" {
		t.Fatalf("invalid request: %d %s (%v)", status, out, err)
	}
	got := map[string]string{}
	for _, f := range e.Error.Fields {
		got[f.Field] = f.Message
	}
	for field, msg := range map[string]string{"query.limit": "value must be an integer", "body.user": "required", "body.items[0].qty": "number must be at least 1"} {
		if got[field] != msg || !strings.Contains(e.Error.Message, field) {
			t.Errorf("field %s: %q, want %q (answer %s)", field, got[field], msg, out)
		}
	}
	if status, out := post("", "application/xml", "<order/>"); status != 415 || !strings.Contains(string(out), "unsupported_media_type") {
		t.Errorf("an undeclared media type: %d %s", status, out)
	}
	if status, out := post("", "application/json", `{"user":{"name":"`+strings.Repeat("a", 5000)+`"},"items":[]}`); status != 413 {
		t.Errorf("a body over max_body_bytes: %d %s", status, out)
	}
	if n := hits.Load() - before; n != 0 {
		t.Errorf("refused requests reached the backend %d times", n)
	}
}

// keptBodyBackend answers 200 and keeps the last request body it received.
func keptBodyBackend(t *testing.T, hits *atomic.Int64, last *atomic.Value) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		last.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}
