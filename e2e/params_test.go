package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bodySaw is what paramsBackend answers: the request it received, body
// and framing included.
type bodySaw struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
	Length              int64
}

func paramsBackend(t *testing.T) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(bodySaw{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Header: r.Header, Body: string(b), Length: r.ContentLength})
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRouteParameterMapping designs routes' parameters through the admin
// API, publishes them and checks exactly what the backend gets through the
// real binary's gateway, and what the description file says.
func TestRouteParameterMapping(t *testing.T) {
	port := paramsBackend(t)
	s := startServer(t, t.TempDir())

	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shop","protocols":["http"]}`, 201, &svc)
	routes := "/api/v1/projects/default/services/" + svc.ID + "/routes"

	// A bad design is refused naming the field.
	b := s.do(t, "POST", routes, `{"name":"bad","paths":["/bad"],"parameters":[{"name":"id","in":"path"}]}`, 400, nil)
	if !strings.Contains(string(b), "parameters[0].name") {
		t.Errorf("bad design answer %s, want the field parameters[0].name", b)
	}

	item := `{"name":"get_item","paths":["/items/{id}"],"methods":["GET"],
	  "parameters":[
	    {"name":"uid","in":"query","required":true,"description":"the caller","backend":{"in":"header","name":"X-User-Id"}},
	    {"name":"id","in":"path","required":true,"type":"integer","backend":{"in":"query","name":"item"}},
	    {"name":"lang","in":"query","default":"en","enum":["en","zh"]}],
	  "backend":{"path":"/v1/item","parameters":[{"in":"header","name":"X-Api-Key","value":"backend-key"}]},
	  "responses":[{"status":200,"example":{"id":42,"name":"box"}}],
	  "errors":[{"code":"E1001","status":404,"message":"no such item"}]}`
	var created struct {
		ID         string
		Parameters []map[string]any
		Errors     []map[string]any
	}
	s.do(t, "POST", routes, item, 201, &created)
	var got struct {
		Parameters []map[string]any
		Backend    struct{ Parameters []map[string]any }
		Responses  []map[string]any
		Errors     []map[string]any
	}
	s.do(t, "GET", routes+"/"+created.ID, "", 200, &got)
	if len(got.Parameters) != 3 || len(got.Backend.Parameters) != 1 || len(got.Responses) != 1 || len(got.Errors) != 1 {
		t.Errorf("GET route lost its design: %+v", got)
	}
	s.do(t, "POST", routes, `{"name":"create_order","paths":["/orders"],"methods":["POST"],
	  "parameters":[
	    {"name":"uid","in":"query","type":"integer","backend":{"in":"body","pointer":"/user/id"}},
	    {"name":"sku","in":"body","pointer":"/item/sku","backend":{"in":"header","name":"X-Sku"}}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/items/1?uid=u", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })

	t.Run("query to header, path to query, constant header, default", func(t *testing.T) {
		resp, body := send(t, "GET", s.Gateway+"/items/42?uid=u-7&x=1", map[string]string{"X-Api-Key": "client-forged"})
		var e bodySaw
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if e.Path != "/v1/item" || e.Query != "x=1&item=42&lang=en" {
			t.Errorf("backend got path %q query %q, want /v1/item and x=1&item=42&lang=en", e.Path, e.Query)
		}
		if e.Header.Get("X-User-Id") != "u-7" || e.Header.Get("X-Api-Key") != "backend-key" {
			t.Errorf("backend headers %v", e.Header)
		}
	})
	t.Run("body field", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.Gateway+"/orders?uid=7", strings.NewReader(`{"item":{"sku":"A-1","n":2},"note":"hi"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var e bodySaw
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var doc any
		_ = json.Unmarshal([]byte(e.Body), &doc)
		want := map[string]any{"item": map[string]any{"n": float64(2)}, "note": "hi", "user": map[string]any{"id": float64(7)}}
		if d, _ := json.Marshal(doc); string(d) != mustMarshal(want) || e.Length != int64(len(e.Body)) {
			t.Errorf("backend body %s (length %d), want %s", e.Body, e.Length, mustMarshal(want))
		}
		if e.Header.Get("X-Sku") != "A-1" || e.Query != "" {
			t.Errorf("backend headers %v query %q", e.Header, e.Query)
		}
		resp2, body2 := send(t, "POST", s.Gateway+"/orders?uid=seven", nil)
		if resp2.StatusCode != 400 || !strings.Contains(string(body2), "uid") {
			t.Errorf("a uid that is no integer: %d %s", resp2.StatusCode, body2)
		}
	})
	t.Run("description file", func(t *testing.T) {
		doc := string(s.do(t, "GET", "/api/v1/projects/default/services/"+svc.ID+"/openapi", "", 200, nil))
		// The provider's export (like its upstream) carries the mapping,
		// so that importing it again restores the design.
		for _, want := range []string{`"uid"`, `"the caller"`, `"box"`, `"E1001"`, `"no such item"`, `"sku"`, `"x-portico-backend"`, `"X-User-Id"`} {
			if !strings.Contains(doc, want) {
				t.Errorf("the description file lacks %s:\n%s", want, doc)
			}
		}
	})
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
