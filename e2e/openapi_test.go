package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOpenAPIImportFlow runs "create a service through an
// OpenAPI Specification file" with the real binary: import a document,
// publish it, call an operation through the gateway, export the
// description file and re-import it (nothing changes); then a mock import.
func TestOpenAPIImportFlow(t *testing.T) {
	_, port := backend(t, "orders")
	s := startServer(t, t.TempDir())
	doc := fmt.Sprintf(`openapi: 3.0.3
info: {title: Orders, version: "1.0", description: Orders of the shop}
servers: [{url: "http://127.0.0.1:%d/api"}]
paths:
  /orders:
    get: {operationId: listOrders, summary: List orders, responses: {"200": {description: ok}}}
  /orders/{id}:
    get:
      operationId: getOrder
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
`, port)

	var dry struct {
		Report struct {
			DryRun  bool `json:"dry_run"`
			Service struct{ Action string }
			Routes  struct{ Created []struct{ Name string } }
		}
	}
	s.do(t, "POST", "/api/v1/projects/default/services/import?dry_run=true", doc, 200, &dry)
	if !dry.Report.DryRun || dry.Report.Service.Action != "create" || len(dry.Report.Routes.Created) != 2 {
		t.Fatalf("dry run = %+v", dry)
	}
	var imp struct {
		Service struct {
			ID, Name, Path, State string
			Routes                []struct{ Name string }
		}
	}
	s.do(t, "POST", "/api/v1/projects/default/services/import", doc, 200, &imp)
	if imp.Service.Name != "Orders" || imp.Service.Path != "/api" || imp.Service.State != "draft" || len(imp.Service.Routes) != 2 {
		t.Fatalf("imported %+v", imp.Service)
	}
	id := imp.Service.ID
	// The servers gave the upstream: publishing needs no nodes.
	s.do(t, "POST", "/api/v1/projects/default/services/"+id+"/publish", `{"group":"default","version":"1.0.0"}`, 201, nil)
	waitFor(t, s.Gateway+"/api/orders/42", 3*time.Second, func(st int, _ []byte) bool { return st == 200 })
	_, _, body, err := get(context.Background(), s.Gateway+"/api/orders/42")
	if err != nil || !strings.Contains(string(body), `"path":"/api/orders/42"`) {
		t.Fatalf("gateway answer %s (%v), want the backend's for /api/orders/42", body, err)
	}

	exported := s.do(t, "GET", "/api/v1/projects/default/services/"+id+"/openapi", "", 200, nil)
	var out struct {
		OpenAPI string
		Servers []struct{ URL string }
		Paths   map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(exported, &out); err != nil {
		t.Fatal(err)
	}
	if out.OpenAPI != "3.1.0" || len(out.Servers) != 1 || out.Servers[0].URL != "/api" || out.Paths["/orders/{id}"]["get"] == nil {
		t.Errorf("exported %s", exported)
	}
	yml := s.do(t, "GET", "/api/v1/projects/default/services/"+id+"/versions/1.0.0/openapi?format=yaml", "", 200, nil)
	if !strings.Contains(string(yml), "openapi: 3.1.0") {
		t.Errorf("version export as YAML: %s", yml)
	}
	var again struct {
		Report struct {
			Service struct{ Action string }
			Routes  struct{ Unchanged int }
		}
	}
	s.do(t, "POST", "/api/v1/projects/default/services/import", string(exported), 200, &again)
	if again.Report.Service.Action != "unchanged" || again.Report.Routes.Unchanged != 2 {
		t.Errorf("re-import of the export = %+v", again.Report)
	}

	// ?mock=true: the response example answers without a backend.
	mockDoc := `{"openapi": "3.1.0", "info": {"title": "Mocked", "version": "1"},
	  "servers": [{"url": "/mocked"}],
	  "paths": {"/hello": {"get": {"operationId": "hello", "responses": {"200": {"description": "ok",
	    "content": {"application/json": {"example": {"hello": "world"}}}}}}}}}`
	var m struct{ Service struct{ ID string } }
	s.do(t, "POST", "/api/v1/projects/default/services/import?mock=true", mockDoc, 200, &m)
	s.do(t, "POST", "/api/v1/projects/default/services/"+m.Service.ID+"/publish",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/mocked/hello", 3*time.Second, func(st int, b []byte) bool {
		return st == 200 && strings.Contains(string(b), `"hello"`) && !strings.Contains(string(b), "backend")
	})
}
