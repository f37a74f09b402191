package openapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

const planV1 = `openapi: 3.0.3
info: {title: Orders, version: "1", description: first}
servers: [{url: "http://orders.internal:8080/api"}]
paths:
  /orders:
    get: {operationId: listOrders, summary: List, responses: {"200": {description: ok}}}
    post: {operationId: createOrder, responses: {"201": {description: created}}}
  /orders/{id}:
    get: {responses: {"200": {description: ok}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
    delete: {operationId: deleteOrder, responses: {"204": {description: gone}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
`

// planV2: listOrders moves to /orders/all and changes summary (matched by
// operationId), GET /orders/{id} gains an operationId (matched by method
// and path), deleteOrder is gone, cancelOrder is new, the description
// changes.
const planV2 = `openapi: 3.0.3
info: {title: Orders, version: "2", description: second}
servers: [{url: "http://orders.internal:8080/api"}]
paths:
  /orders/all:
    get: {operationId: listOrders, summary: List all, responses: {"200": {description: ok}}}
  /orders:
    post: {operationId: createOrder, responses: {"201": {description: created}}}
  /orders/{id}:
    get: {operationId: getOrder, responses: {"200": {description: ok}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
  /orders/{id}/cancel:
    post: {operationId: cancelOrder, responses: {"200": {description: ok}}, parameters: [{name: id, in: path, required: true, schema: {type: string}}]}
`

func mustImport(t *testing.T, doc string, opts Options) *Result {
	t.Helper()
	res, err := Import([]byte(doc), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

func names(cs []Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name+fmt.Sprint(c.Fields))
	}
	return out
}

func TestPlanCreate(t *testing.T) {
	p := NewPlan(mustImport(t, planV1, Options{}), nil)
	if p.Report.Service.Action != "create" || len(p.Create) != 4 || !p.Changed() {
		t.Fatalf("plan = %+v", p.Report)
	}
	if d := cmp.Diff([]string{"listOrders[]", "createOrder[]", "get_orders_id[]", "deleteOrder[]"}, names(p.Report.Routes.Created)); d != "" {
		t.Errorf("created (-want +got):\n%s", d)
	}
}

func TestPlanReimportIdempotent(t *testing.T) {
	for _, f := range testFiles {
		res := mustImport(t, string(readTestdata(t, f)), Options{Mock: true})
		p := NewPlan(mustImport(t, string(readTestdata(t, f)), Options{Mock: true}), stored(res))
		if p.Changed() {
			t.Errorf("%s: re-import changes %+v %+v", f, p.Report.Service, p.Report.Routes)
		}
		if p.Report.Service.Action != "unchanged" || p.Report.Routes.Unchanged != len(res.Service.Routes) {
			t.Errorf("%s: report %+v", f, p.Report)
		}
	}
}

func TestPlanChangedDocument(t *testing.T) {
	old := stored(mustImport(t, planV1, Options{}))
	// Plugins and backends set by hand survive; a hand-made route is kept.
	old.Plugins = spec.Plugins{"limit-count": []byte(`{"count":1,"time_window":1}`)}
	old.Routes[1].Backend = &spec.Backend{Path: "/v2/orders"}
	old.Routes = append(old.Routes, spec.Route{ID: "manual", Name: "health", Paths: []string{"/health"}})
	p := NewPlan(mustImport(t, planV2, Options{}), old)
	rc := p.Report.Routes
	if p.Report.Service.Action != "update" || !cmp.Equal(p.Report.Service.Fields, []string{"description", "openapi"}) {
		t.Errorf("service change = %+v", p.Report.Service)
	}
	if d := cmp.Diff([]string{"cancelOrder[]"}, names(rc.Created)); d != "" {
		t.Errorf("created (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"listOrders[description paths openapi]", "getOrder[name openapi]"}, names(rc.Changed)); d != "" {
		t.Errorf("changed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"deleteOrder[]"}, names(rc.Removed)); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"health[]"}, names(rc.Kept)); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	if rc.Unchanged != 1 || p.Update[0].ID != old.Routes[0].ID {
		t.Errorf("unchanged %d, update ids %s", rc.Unchanged, p.Update[0].ID)
	}
	if _, ok := p.Service.Plugins["limit-count"]; !ok {
		t.Errorf("hand-set plugin lost: %v", pluginNames(p.Service.Plugins))
	}
	// Applying the plan and re-importing v2 changes nothing.
	next := p.Service
	for _, r := range old.Routes {
		removed := false
		for _, x := range p.Remove {
			removed = removed || x.ID == r.ID
		}
		for _, u := range p.Update {
			if u.ID == r.ID {
				r = u
			}
		}
		if !removed {
			next.Routes = append(next.Routes, r)
		}
	}
	for i, r := range p.Create {
		r.ID = fmt.Sprintf("new-%d", i)
		next.Routes = append(next.Routes, r)
	}
	if p2 := NewPlan(mustImport(t, planV2, Options{}), &next); p2.Changed() {
		t.Errorf("second import of v2 changes %+v %+v", p2.Report.Service, p2.Report.Routes)
	}
}

func TestPlanManagedPlugins(t *testing.T) {
	withKey := strings.Replace(planV1, "paths:", "security: [{k: []}]\ncomponents: {securitySchemes: {k: {type: apiKey, in: query, name: key}}}\npaths:", 1)
	old := stored(mustImport(t, withKey, Options{}))
	if _, ok := old.Plugins["key-auth"]; !ok {
		t.Fatalf("no key-auth: %v", pluginNames(old.Plugins))
	}
	// The document drops its security: key-auth goes, as the document says.
	p := NewPlan(mustImport(t, planV1, Options{}), old)
	if _, ok := p.Service.Plugins["key-auth"]; ok || !cmp.Equal(p.Report.Service.Fields, []string{"plugins", "openapi"}) {
		t.Errorf("plugins %v, fields %v", pluginNames(p.Service.Plugins), p.Report.Service.Fields)
	}
	// An unknown plugin is reported, not applied, and turns on later.
	res := mustImport(t, withKey, Options{KnownPlugin: func(string) bool { return false }})
	if len(res.Service.Plugins) != 0 || len(res.Plugins) != 1 || res.Plugins[0].Applied {
		t.Errorf("unknown plugin applied: %v %+v", pluginNames(res.Service.Plugins), res.Plugins)
	}
	p = NewPlan(mustImport(t, withKey, Options{}), stored(res))
	if !cmp.Equal(p.Report.Service.Fields, []string{"plugins"}) {
		t.Errorf("re-import once known: %+v", p.Report.Service)
	}
}
