package requestvalidation

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/spec"
)

// The route the tests validate against: POST /orders/:id, with an
// operation declaring parameters of every location and a JSON body whose
// schema is a component of the service's document.
const (
	testOperation = `{
	"parameters": [
		{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
		{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
		{"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}},
		{"name": "ids", "in": "query", "explode": false, "schema": {"type": "array", "items": {"type": "integer"}}},
		{"name": "X-Version", "in": "header", "schema": {"type": "integer"}},
		{"name": "session", "in": "cookie", "required": true, "schema": {"type": "string", "minLength": 3}},
		{"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object", "required": ["q"]}}}}
	],
	"requestBody": {"required": true, "content": {
		"application/json": {"schema": {"$ref": "#/components/schemas/Order"}},
		"text/plain": {}
	}},
	"responses": {
		"200": {"description": "ok", "content": {"application/json": {}}},
		"4XX": {"description": "refused"}
	}
}`
	testComponents = `{"components": {"schemas": {
	"Order": {"type": "object", "required": ["user", "items"], "properties": {
		"note": {"type": ["string", "null"], "maxLength": 20},
		"user": {"type": "object", "required": ["name"], "properties": {
			"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}},
		"items": {"type": "array", "items": {"type": "object", "required": ["sku"], "properties": {
			"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}}
	}}
}}}`
	validBody = `{"note": null, "user": {"name": "Ada", "age": 36}, "items": [{"sku": "x-1", "qty": 2}]}`
)

// compiled is a route's description as the gateway compiles it: its
// service's document and the route's paths, as the export writes them.
type compiled struct {
	doc   *Document
	paths []byte
}

func testDoc(t testing.TB, op, components string) compiled {
	t.Helper()
	svc := &spec.Service{Name: "shop", OpenAPI: json.RawMessage(components)}
	r := &spec.Route{Name: "create-order", Paths: []string{"/orders/:id"}, Methods: []string{"POST"}, OpenAPI: json.RawMessage(op)}
	sd, err := openapi.ExportService(svc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sd.Doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := sd.Route(r)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := json.Marshal(paths)
	if err != nil {
		t.Fatal(err)
	}
	return compiled{d, pb}
}

func build(t testing.TB, cfg string, c compiled) plugin.Filters {
	t.Helper()
	var conf Config
	dec := json.NewDecoder(strings.NewReader(cfg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&conf); err != nil {
		t.Fatal(err)
	}
	fs, err := New(conf, c.doc, c.paths)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// bodyBacking gives filters the body, as both engines do.
type bodyBacking struct {
	*plugintest.Backing
	body  []byte
	reads int
}

func (b *bodyBacking) BufferBody(max int64) ([]byte, error) {
	b.reads++
	if int64(len(b.body)) > max {
		return nil, plugin.ErrBodyTooLarge
	}
	return b.body, nil
}

// request is one test request to POST /orders/{id}.
type request struct {
	id          string // path parameter; "" means 7
	query       string
	header      map[string]string
	contentType string // "" means application/json; "-" none
	body        string
}

var ordersMatcher = func() *match.Matcher[int] {
	b := match.NewBuilder[int]()
	if err := b.Add(match.Route[int]{Path: "/orders/:id", Value: 1}); err != nil {
		panic(err)
	}
	return b.Build()
}()

func (r request) run(f plugin.RequestFilter) (*bodyBacking, bool) {
	id := r.id
	if id == "" {
		id = "7"
	}
	b := &bodyBacking{Backing: plugintest.New("192.0.2.1"), body: []byte(r.body)}
	b.ReqMethod, b.ReqPath, b.ReqRawQuery = "POST", "/orders/"+id, r.query
	b.Length = int64(len(r.body))
	b.ReqHeader.Set("Cookie", "session=abcdef")
	switch r.contentType {
	case "":
		b.ReqHeader.Set("Content-Type", "application/json")
	case "-":
	default:
		b.ReqHeader.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		b.ReqHeader.Set(k, v)
	}
	var ps match.Params
	if _, _, ok := ordersMatcher.Lookup("example.com", "POST", b.ReqPath, &ps); !ok {
		panic("no match for " + b.ReqPath)
	}
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "default", ServiceName: "shop"}, RouteName: "create-order"}, &ps)
	return b, f.OnRequest(ex)
}

// answer is a gateway error as the client reads it.
type answer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Fields  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"fields"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

func TestRequests(t *testing.T) {
	doc := testDoc(t, testOperation, testComponents)
	full := build(t, `{}`, doc).Request
	bodyOnly := build(t, `{"parameters": false}`, doc).Request
	paramsOnly := build(t, `{"body": false}`, doc).Request
	small := build(t, `{"max_body_bytes": 16}`, doc).Request
	tests := []struct {
		name   string
		filter plugin.RequestFilter
		req    request
		status int               // 0: passed on
		fields map[string]string // field: message (a prefix of it)
		code   string
	}{
		{name: "valid", filter: full, req: request{query: "limit=10&tags=a&tags=b&ids=1,2&filter=%7B%22q%22%3A1%7D", header: map[string]string{"X-Version": "2"}, body: validBody}},
		{name: "wrong type and missing field", filter: full, req: request{query: "limit=ten", body: `{"user": {}, "items": []}`}, status: 400,
			fields: map[string]string{"query.limit": "value must be an integer", "body.user.name": "required"}},
		{name: "every location", filter: full,
			req: request{id: "x", query: "limit=101&tags=a&tags=c&ids=1,x&filter=%7B%7D", header: map[string]string{"X-Version": "v2", "Cookie": "session=a"},
				body: `{"note": "a note longer than twenty", "user": {"name": 5, "age": -1}, "items": [{"qty": 0}]}`},
			status: 400, fields: map[string]string{
				"path.id": "value must be an integer", "query.limit": "number must be at most 100", "query.tags[1]": "value is not one of",
				"query.ids[1]": "value must be an integer", "query.filter.q": "required", "header.X-Version": "value must be an integer",
				"cookie.session": "minimum string length is 3", "body.note": "maximum string length is 20", "body.user.name": "value must be a string",
				"body.user.age": "number must be at least 0", "body.items[0].sku": "required", "body.items[0].qty": "number must be at least 1"}},
		{name: "missing required cookie", filter: full, req: request{header: map[string]string{"Cookie": "other=1"}, body: validBody}, status: 400,
			fields: map[string]string{"cookie.session": "required"}},
		{name: "missing body", filter: full, req: request{}, status: 400, fields: map[string]string{"body": "required"}},
		{name: "not JSON", filter: full, req: request{body: `{"user":`}, status: 400, fields: map[string]string{"body": "is not valid JSON"}},
		{name: "two JSON values", filter: full, req: request{body: validBody + ` {}`}, status: 400, fields: map[string]string{"body": "is not valid JSON"}},
		{name: "not an object", filter: full, req: request{body: `[1]`}, status: 400, fields: map[string]string{"body": "value must be an object"}},
		{name: "charset parameter", filter: full, req: request{contentType: "Application/JSON; charset=utf-8", body: validBody}},
		{name: "declared media type without schema", filter: full, req: request{contentType: "text/plain", body: "anything"}},
		{name: "undeclared media type", filter: full, req: request{contentType: "application/xml", body: "<a/>"}, status: 415, code: "unsupported_media_type"},
		{name: "no content type", filter: full, req: request{contentType: "-", body: validBody}, status: 415, code: "unsupported_media_type"},
		{name: "body over max_body_bytes", filter: small, req: request{body: validBody}, status: 413, code: "request_too_large"},
		{name: "parameters off", filter: bodyOnly, req: request{query: "limit=ten", header: map[string]string{"Cookie": "x=1"}, body: validBody}},
		{name: "body off", filter: paramsOnly, req: request{contentType: "application/xml", body: "<a/>"}},
		{name: "body off, parameters on", filter: paramsOnly, req: request{query: "limit=ten"}, status: 400, fields: map[string]string{"query.limit": "value must be an integer"}},
		{name: "escaped query name and value", filter: full, req: request{query: "li%6Dit=1%30", body: validBody}},
		{name: "escaped value over the maximum", filter: full, req: request{query: "limit=1%301", body: validBody}, status: 400,
			fields: map[string]string{"query.limit": "number must be at most 100"}},
		{name: "NaN is no number", filter: full, req: request{query: "limit=NaN", body: validBody}, status: 400,
			fields: map[string]string{"query.limit": "value must be an integer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, stop := tc.req.run(tc.filter)
			if tc.status == 0 {
				if stop {
					t.Fatalf("refused %d: %s", b.ErrorStatus, b.ErrorBody)
				}
				return
			}
			if !stop || b.ErrorStatus != tc.status {
				t.Fatalf("stop %v status %d, want %d: %s", stop, b.ErrorStatus, tc.status, b.ErrorBody)
			}
			var a answer
			if err := json.Unmarshal(b.ErrorBody, &a); err != nil {
				t.Fatalf("answer %s: %v", b.ErrorBody, err)
			}
			want := tc.code
			if want == "" {
				want = "request_invalid"
			}
			if a.Error.Code != want || a.RequestID != "req-1" {
				t.Errorf("code %q request id %q, want %q: %s", a.Error.Code, a.RequestID, want, b.ErrorBody)
			}
			got := map[string]string{}
			for _, f := range a.Error.Fields {
				got[f.Field] = f.Message
				if !strings.Contains(a.Error.Message, f.Field+": "+f.Message) {
					t.Errorf("the message does not name %s: %s", f.Field, a.Error.Message)
				}
			}
			for field, msg := range tc.fields {
				if !strings.HasPrefix(got[field], msg) {
					t.Errorf("field %s: %q, want %q…", field, got[field], msg)
				}
			}
			if len(got) != len(tc.fields) {
				t.Errorf("fields %v, want exactly %v", got, tc.fields)
			}
		})
	}
}

// TestBodyReadOnlyWhenDeclared: an operation without a requestBody leaves
// the body alone (it streams to the backend unread).
func TestBodyReadOnlyWhenDeclared(t *testing.T) {
	op := `{"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]}`
	f := build(t, `{}`, testDoc(t, op, `{}`)).Request
	b, stop := request{query: "limit=1", contentType: "application/xml", body: "<a/>"}.run(f)
	if stop || b.reads != 0 {
		t.Fatalf("stop %v, body read %d times: %s", stop, b.reads, b.ErrorBody)
	}
}

// TestNothingDeclared: a route that declares nothing gets no request
// filter, so its requests pay nothing.
func TestNothingDeclared(t *testing.T) {
	fs := build(t, `{}`, testDoc(t, `{}`, `{}`))
	if fs.Request != nil || fs.Response != nil {
		t.Fatalf("filters %+v for a route that declares nothing", fs)
	}
}

func TestManyFailuresAreCounted(t *testing.T) {
	f := build(t, `{}`, testDoc(t, testOperation, testComponents)).Request
	items := strings.Repeat(`{"qty": 0},`, 49) + `{"qty": 0}`
	b, stop := request{body: `{"user": {"name": "a"}, "items": [` + items + `]}`}.run(f)
	if !stop || b.ErrorStatus != 400 {
		t.Fatalf("stop %v status %d", stop, b.ErrorStatus)
	}
	var a answer
	if err := json.Unmarshal(b.ErrorBody, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Error.Fields) != maxFields || !strings.HasSuffix(a.Error.Message, "; and 80 more") {
		t.Fatalf("%d fields, message %q", len(a.Error.Fields), a.Error.Message)
	}
}

func TestConfig(t *testing.T) {
	doc := testDoc(t, testOperation, testComponents)
	for _, tc := range []struct {
		cfg  Config
		want string // "" accepted
	}{
		{Config{}, ""},
		{Config{Body: ptr(false), Parameters: ptr(false)}, "nothing would be validated"},
		{Config{Body: ptr(false), Parameters: ptr(false), Response: true}, ""},
		{Config{MaxBodyBytes: -1}, "max_body_bytes must be between"},
		{Config{MaxBodyBytes: maxBodyLimit + 1}, "max_body_bytes must be between"},
		{Config{MaxBodyBytes: 10, Body: ptr(false)}, "max_body_bytes needs body on"},
	} {
		for _, d := range []compiled{{}, doc} {
			_, err := New(tc.cfg, d.doc, d.paths)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%+v (doc %v): %v, want %q", tc.cfg, d.doc != nil, err, tc.want)
			}
		}
	}
	if _, err := New(Config{}, doc.doc, []byte(`{"/x": {"get": {"parameters": [{"$ref": "https://example.com/p.json"}]}}}`)); err == nil {
		t.Error("an external reference was followed or ignored, want the operation refused")
	}
	if _, err := LoadDocument([]byte(`{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "components": {"schemas": {"A": {"$ref": "https://example.com/a.json"}}}}`)); err == nil {
		t.Error("an external reference in the service's document was followed or ignored, want it refused")
	}
}

func TestResponse(t *testing.T) {
	doc := testDoc(t, testOperation, testComponents)
	if fs := build(t, `{}`, doc); fs.Response != nil {
		t.Fatal("a response filter without response on")
	}
	f := build(t, `{"response": true}`, doc).Response
	for _, tc := range []struct {
		status int
		ct     string
		want   string
	}{
		{200, "application/json; charset=utf-8", ""},
		{200, "text/html", noteContentType},
		{404, "text/html", ""}, // 4XX declares no content
		{500, "application/json", noteStatus},
	} {
		b := plugintest.New("192.0.2.1")
		b.Status = tc.status
		b.RespHeader.Set("Content-Type", tc.ct)
		ex := b.Exchange()
		f.OnResponse(ex)
		if ex.Note() != tc.want || b.Errors != 0 || b.RespHeader.Get("Content-Type") != tc.ct {
			t.Errorf("%d %s: note %q, want %q (errors %d)", tc.status, tc.ct, ex.Note(), tc.want, b.Errors)
		}
	}
}

func TestFieldErrorShape(t *testing.T) {
	b := plugin.AppendFieldsError(nil, "request_invalid", "m", []plugin.FieldError{{Field: "query.a", Message: `"x"`}}, "r1", "t1")
	want := `{"error":{"code":"request_invalid","message":"m","fields":[{"field":"query.a","message":"\"x\""}]},"request_id":"r1","trace_id":"t1"}` + "\n"
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
	if got, plain := plugin.AppendFieldsError(nil, "c", "m", nil, "r", ""), plugin.AppendError(nil, "c", "m", "r", ""); string(got) != string(plain) {
		t.Fatalf("without fields %s, want %s", got, plain)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	_ = http.StatusBadRequest
}

func ptr[T any](v T) *T { return &v }
