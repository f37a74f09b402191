package adminapi

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/spec"
)

const ordersV1 = `openapi: 3.0.3
info: {title: Orders, version: "1", description: first}
servers: [{url: "http://127.0.0.1:8080/api"}]
paths:
  /orders:
    get: {operationId: listOrders, summary: List, responses: {"200": {description: ok, content: {application/json: {example: [{id: 1}]}}}}}
    post: {operationId: createOrder, responses: {"201": {description: created}}}
  /orders/{id}:
    delete: {operationId: deleteOrder, responses: {"204": {description: gone}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
`

// ordersV2 drops deleteOrder, adds getOrder and changes listOrders' summary.
const ordersV2 = `openapi: 3.0.3
info: {title: Orders, version: "2", description: first}
servers: [{url: "http://127.0.0.1:8080/api"}]
paths:
  /orders:
    get: {operationId: listOrders, summary: List all, responses: {"200": {description: ok}}}
    post: {operationId: createOrder, responses: {"201": {description: created}}}
  /orders/{id}:
    get: {operationId: getOrder, responses: {"200": {description: ok}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
`

func (a *testAPI) importDoc(query, doc string, status int) importResult {
	a.t.Helper()
	var out importResult
	a.mustJSON("POST", "/projects/default/services/import"+query, doc, status, &out)
	return out
}

func changeNames(cs []openapi.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestImportOpenAPIEveryFormat(t *testing.T) {
	a := newTestAPI(t)
	for _, f := range []string{"petstore-3.0.json", "petstore-3.0.yaml", "museum-3.1.yaml", "petstore-2.0.json", "petstore-2.0.yaml"} {
		b, err := os.ReadFile("../openapi/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		out := a.importDoc("?mock=true", string(b), http.StatusOK)
		if out.Service == nil || out.Service.ID == "" || out.Service.State != spec.StateDraft || len(out.Service.Routes) == 0 {
			t.Fatalf("%s: service %+v", f, out.Service)
		}
		// The JSON and YAML twins are one service: the second import changes nothing.
		if f == "petstore-3.0.yaml" || f == "petstore-2.0.yaml" {
			if out.Report.Service.Action != "unchanged" || out.Report.Routes.Unchanged != len(out.Service.Routes) {
				t.Errorf("%s: twin import report %+v", f, out.Report)
			}
		} else if out.Report.Service.Action != "create" {
			t.Errorf("%s: action %q", f, out.Report.Service.Action)
		}
	}
	var list struct{ Total int }
	a.mustJSON("GET", "/projects/default/services", nil, http.StatusOK, &list)
	if list.Total != 3 {
		t.Errorf("%d services, want 3", list.Total)
	}
}

func TestImportOpenAPIDryRunAndReimport(t *testing.T) {
	a := newTestAPI(t)
	dry := a.importDoc("?dry_run=true", ordersV1, http.StatusOK)
	if !dry.Report.DryRun || dry.Report.Service.Action != "create" || dry.Service != nil || len(dry.Report.Routes.Created) != 3 {
		t.Fatalf("dry run = %+v", dry)
	}
	var list struct{ Total int }
	a.mustJSON("GET", "/projects/default/services", nil, http.StatusOK, &list)
	if list.Total != 0 {
		t.Fatalf("a dry run wrote %d services", list.Total)
	}
	first := a.importDoc("", ordersV1, http.StatusOK)
	svc := first.Service
	if svc.Name != "Orders" || svc.Path != "/api" || svc.Upstream == nil || len(svc.Routes) != 3 {
		t.Fatalf("service %+v", svc)
	}
	again := a.importDoc("", ordersV1, http.StatusOK)
	if again.Report.Service.Action != "unchanged" || again.Report.Routes.Unchanged != 3 || again.Service.ID != svc.ID {
		t.Errorf("re-import report %+v", again.Report)
	}
	diff := a.importDoc("?dry_run=true", ordersV2, http.StatusOK)
	rc := diff.Report.Routes
	if strings.Join(changeNames(rc.Created), ",") != "getOrder" || strings.Join(changeNames(rc.Changed), ",") != "listOrders" ||
		strings.Join(changeNames(rc.Removed), ",") != "deleteOrder" || rc.Unchanged != 1 {
		t.Errorf("dry-run diff %+v", rc)
	}
	var routes struct{ Total int }
	a.mustJSON("GET", "/projects/default/services/"+svc.ID+"/routes", nil, http.StatusOK, &routes)
	if routes.Total != 3 {
		t.Errorf("dry run changed routes: %d", routes.Total)
	}
	applied := a.importDoc("", ordersV2, http.StatusOK)
	got := map[string]string{}
	for _, r := range applied.Service.Routes {
		got[r.Name] = r.ID
	}
	for _, r := range svc.Routes {
		if r.Name == "listOrders" && got["listOrders"] != r.ID {
			t.Errorf("listOrders was replaced, not updated in place")
		}
	}
	if len(got) != 3 || got["deleteOrder"] != "" || got["getOrder"] == "" {
		t.Errorf("routes after v2: %v", got)
	}
	if again := a.importDoc("", ordersV2, http.StatusOK); again.Report.Service.Action != "unchanged" || again.Report.Routes.Unchanged != 3 {
		t.Errorf("second v2 import: %+v", again.Report)
	}
}

func TestImportOpenAPIInvalid(t *testing.T) {
	a := newTestAPI(t)
	// Not valid OpenAPI and nothing to route: refused, every finding named.
	r := a.do("POST", "/projects/default/services/import", `{"openapi": "3.0.0", "info": {"title": "x"}, "paths": {"/a/{b": {"get": {"responses": {"200": {}}}}}}`)
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	fields := r.fields(t)
	if strings.Join(fields, " ") != "/info /paths/~1a~1{b/get" {
		t.Errorf("fields %v", fields)
	}
	// Not valid but routable: imported, the findings answered as warnings.
	r = a.do("POST", "/projects/default/services/import?dry_run=true", `{"openapi": "3.0.0", "info": {"title": "x"}, "paths": {"/b": {"post": {"responses": {"200": {}}}}}}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"field": "/paths/~1b/post"`) || !strings.Contains(string(r.body), "not valid OpenAPI, imported anyway") {
		t.Errorf("a routable document with flaws: %d %s", r.status, r.body)
	}
	if r := a.do("POST", "/projects/default/services/import?dry_run=maybe", ordersV1); r.status != http.StatusBadRequest {
		t.Errorf("bad dry_run: %d", r.status)
	}
	if r := a.do("POST", "/projects/nope/services/import", ordersV1); r.status != http.StatusNotFound {
		t.Errorf("unknown project: %d", r.status)
	}
	big := "openapi: 3.0.0\n#" + strings.Repeat("x", 32<<20)
	if r := a.do("POST", "/projects/default/services/import", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("33 MiB document: %d", r.status)
	}
}

func (a *testAPI) get(path, accept string) response {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.url+Prefix+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestExportOpenAPI(t *testing.T) {
	a := newTestAPI(t)
	svc := a.importDoc("", ordersV1, http.StatusOK).Service
	a.mustJSON("PATCH", "/gateway-groups/default", map[string]string{"path_prefix": "/gw/{project}"}, http.StatusOK, nil)
	a.mustJSON("POST", "/projects/default/services/"+svc.ID+"/publish", map[string]string{"group": "default", "version": "1.0.0"}, http.StatusCreated, nil)

	r := a.get("/projects/default/services/"+svc.ID+"/openapi", "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("export: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var doc struct {
		OpenAPI string
		Servers []openapi.Server
		Paths   map[string]map[string]any
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/gw/default/api" || len(doc.Paths["/orders"]) != 2 {
		t.Errorf("exported %+v", doc)
	}
	for _, y := range []response{
		a.get("/projects/default/services/"+svc.ID+"/openapi?format=yaml", ""),
		a.get("/projects/default/services/"+svc.ID+"/openapi", "application/yaml"),
		a.get("/projects/default/services/"+svc.ID+"/versions/1.0.0/openapi", "application/yaml, */*"),
	} {
		if y.status != http.StatusOK || y.header.Get("Content-Type") != "application/yaml" || !strings.Contains(string(y.body), "openapi: 3.1.0") {
			t.Errorf("YAML export: %d %s %.200s", y.status, y.header.Get("Content-Type"), y.body)
		}
	}
	if v := a.get("/projects/default/services/"+svc.ID+"/versions/1.0.0/openapi", ""); !strings.Contains(string(v.body), `"version": "1.0.0"`) {
		t.Errorf("version export: %s", v.body)
	}
	if v := a.get("/projects/default/services/"+svc.ID+"/versions/9.9.9/openapi", ""); v.status != http.StatusNotFound {
		t.Errorf("unknown version: %d", v.status)
	}
	// Round trip: import → export → import changes nothing.
	back := a.importDoc("", string(r.body), http.StatusOK)
	if back.Report.Service.Action != "unchanged" || back.Report.Routes.Unchanged != 3 || len(back.Report.Routes.Created)+len(back.Report.Routes.Removed) != 0 {
		t.Errorf("re-import of the export: %+v", back.Report)
	}
}
