package routing

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

// request-validation is built from the route it is compiled for: the
// route's operation and the service's components reach it through
// Deps.Route, and a route that declares nothing gets no filter.
func TestRequestValidationSeesItsRoute(t *testing.T) {
	declared := withPlugins(route("list", "/items"), map[string]string{"request-validation": `{"body": false}`})
	declared.OpenAPI = json.RawMessage(`{"parameters": [{"name": "limit", "in": "query", "schema": {"$ref": "#/components/schemas/Limit"}}]}`)
	plain := withPlugins(route("other", "/other"), map[string]string{"request-validation": `{}`})
	ds := deployed("p", "shop", "", declared, plain)
	ds.Service.OpenAPI = json.RawMessage(`{"components": {"schemas": {"Limit": {"type": "integer", "maximum": 10}}}}`)
	tbl := mustBuild(t, snapshot(group("g", "", ds)))
	call := func(path, query string) (bool, int, string) {
		var ps match.Params
		rt, _, ok := tbl.Lookup("", "GET", path, &ps)
		if !ok {
			t.Fatalf("no route at %s", path)
		}
		b := plugintest.New("192.0.2.1")
		b.ReqPath, b.ReqRawQuery = path, query
		ex := b.Exchange()
		for _, f := range rt.RequestFilters() {
			if f.OnRequest(ex) {
				return true, b.ErrorStatus, string(b.ErrorBody)
			}
		}
		return false, 0, ""
	}
	if stop, status, body := call("/items", "limit=11"); !stop || status != 400 || !strings.Contains(body, `"field":"query.limit"`) {
		t.Errorf("limit over the component's maximum: stop %v status %d %s", stop, status, body)
	}
	if stop, _, body := call("/items", "limit=10"); stop {
		t.Errorf("a valid limit was refused: %s", body)
	}
	var ps match.Params
	if rt, _, _ := tbl.Lookup("", "GET", "/other", &ps); len(rt.RequestFilters()) != 0 {
		t.Errorf("a route that declares nothing has %d request filters", len(rt.RequestFilters()))
	}
}

// A description the validator cannot load refuses the route at publish,
// naming the plugin.
func TestRequestValidationRefusesABrokenDescription(t *testing.T) {
	r := withPlugins(route("list", "/items"), map[string]string{"request-validation": `{}`})
	r.OpenAPI = json.RawMessage(`{"parameters": [{"$ref": "https://example.com/param.json"}]}`)
	_, err := Build(snapshot(group("g", "", deployed("p", "shop", "", r))), Deps{})
	fe := fieldErrors(t, err)
	if len(fe) != 1 || fe[0].Field != "services[shop].routes[list].plugins.request-validation" {
		t.Fatalf("errors %v", fe)
	}
}

func TestRequestValidationConfigChecked(t *testing.T) {
	for cfg, want := range map[string]string{
		`{}`: "", `{"body": true, "parameters": true, "max_body_bytes": 1024, "response": true}`: "",
		`{"bodies": true}`: "unknown field", `{"body": false, "parameters": false}`: "nothing would be validated",
		`{"max_body_bytes": "1"}`: "cannot unmarshal",
	} {
		err := CheckPlugins("plugins", spec.Plugins{"request-validation": json.RawMessage(cfg)})
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", cfg, err, want)
		}
	}
}

// The parameters a route declares (spec.Route.Parameters) reach the
// validator through the export of the route: a declared query parameter
// and body field are checked without any stored operation.
func TestRequestValidationOfDeclaredParameters(t *testing.T) {
	r := withMethods(withPlugins(route("create", "/users"), map[string]string{"request-validation": `{}`}), "POST")
	r.Parameters = []spec.Parameter{
		{Name: "limit", In: "query", Type: "integer", Required: true},
		{Name: "name", In: "body", Pointer: "/user/name", Type: "string", Required: true},
	}
	tbl := mustBuild(t, snapshot(group("g", "", deployed("p", "shop", "", r))))
	var ps match.Params
	rt, _, ok := tbl.Lookup("", "POST", "/users", &ps)
	if !ok || len(rt.RequestFilters()) != 1 {
		t.Fatalf("route found %v, filters %d", ok, len(rt.RequestFilters()))
	}
	b := &validatedBody{Backing: plugintest.New("192.0.2.1"), body: []byte(`{"user": {}}`)}
	b.ReqMethod, b.ReqPath, b.ReqRawQuery, b.Length = "POST", "/users", "limit=x", 12
	b.ReqHeader.Set("Content-Type", "application/json")
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &rt.Info, &ps)
	if !rt.RequestFilters()[0].OnRequest(ex) || b.ErrorStatus != 400 {
		t.Fatalf("status %d %s", b.ErrorStatus, b.ErrorBody)
	}
	for _, field := range []string{`"field":"query.limit"`, `"field":"body.user.name"`} {
		if !strings.Contains(string(b.ErrorBody), field) {
			t.Errorf("the answer does not name %s: %s", field, b.ErrorBody)
		}
	}
}

// validatedBody gives filters the body, as both engines do.
type validatedBody struct {
	*plugintest.Backing
	body []byte
}

func (b *validatedBody) BufferBody(int64) ([]byte, error) { return b.body, nil }
