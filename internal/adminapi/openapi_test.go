package adminapi

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes checks the served document against the route
// table that registers the handlers: every route is described, and every
// described route is really registered (answers 401 without a token rather
// than the mux's 404/405).
func TestOpenAPICoversRoutes(t *testing.T) {
	a := newTestAPI(t)
	r := a.doToken("", "GET", "/openapi.json", nil)
	if r.status != http.StatusOK {
		t.Fatalf("openapi.json without token: status %d, want 200", r.status)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	s := &server{}
	eps := s.endpoints()
	ops := 0
	for _, item := range doc.Paths {
		ops += len(item)
	}
	if ops != len(eps) {
		t.Errorf("document has %d operations, route table %d", ops, len(eps))
	}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for _, ep := range eps {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			raw, ok := doc.Paths[ep.path][strings.ToLower(ep.method)]
			if !ok {
				t.Fatalf("not in openapi.json")
			}
			var op struct {
				RequestBody json.RawMessage            `json:"requestBody"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("operation: %v", err)
			}
			want := []int{ep.status}
			if !ep.public {
				want = append(want, http.StatusUnauthorized)
			}
			if strings.Contains(ep.path, "{") {
				want = append(want, http.StatusNotFound)
			}
			if ep.req != nil {
				want = append(want, http.StatusBadRequest)
				if op.RequestBody == nil {
					t.Errorf("takes a body, but no requestBody is described")
				}
			}
			if ep.method != http.MethodGet && !strings.HasPrefix(ep.path, "/auth/") {
				want = append(want, http.StatusConflict)
			}
			for _, code := range want {
				if _, ok := op.Responses[strconv.Itoa(code)]; !ok {
					t.Errorf("answer %d is not described; responses: %v", code, keys(op.Responses))
				}
			}
			if ep.public {
				return
			}
			req, err := http.NewRequest(ep.method, a.url+Prefix+param.ReplaceAllString(ep.path, "x"), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("without token: status %d, want 401 (is the route registered?)", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("without token: Content-Type %q, want application/problem+json", ct)
			}
		})
	}
	// Every $ref points at a schema that exists.
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z0-9]+)"`).FindAllStringSubmatch(string(r.body), -1) {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
}

// TestOpenAPISchemas checks what the reflection walker derives from tags.
func TestOpenAPISchemas(t *testing.T) {
	doc := buildOpenAPI((&server{}).endpoints(), "v")
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	sc := d.Components.Schemas
	tests := []struct {
		name, schema, field, want string
	}{
		{"time is date-time", "Service", "created_at", `"format":"date-time"`},
		{"read-only fields are marked", "Service", "id", `"readOnly":true`},
		{"raw JSON is any", "AuditEvent", "detail", `{}`},
		{"maps are objects", "Service", "labels", `"additionalProperties":{"type":"string"}`},
		{"embedded structs are flattened", "PublishResponse", "service_id", `"type":"string"`},
		{"int64 has a format", "PublishResponse", "revision", `"format":"int64"`},
		{"nested named structs are refs", "Deployment", "upstream", `"$ref":"#/components/schemas/Upstream"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ok := sc[tt.schema].Properties[tt.field]
			if !ok {
				t.Fatalf("%s.%s missing; schemas: %v", tt.schema, tt.field, keys(sc))
			}
			var compact strings.Builder
			var v any
			_ = json.Unmarshal(raw, &v)
			b, _ := json.Marshal(v)
			compact.Write(b)
			if !strings.Contains(compact.String(), tt.want) {
				t.Errorf("%s.%s = %s, want it to contain %s", tt.schema, tt.field, compact.String(), tt.want)
			}
		})
	}
	reqTests := []struct {
		schema string
		want   []string
	}{
		{"Service", []string{"name"}},
		{"Route", []string{"name"}},
		{"Node", []string{"host", "port"}},
		{"Project", []string{"id"}},
		{"LoginRequest", []string{"username", "password"}},
	}
	for _, tt := range reqTests {
		t.Run("required of "+tt.schema, func(t *testing.T) {
			if got := strings.Join(sc[tt.schema].Required, ","); got != strings.Join(tt.want, ",") {
				t.Errorf("required = %s, want %s", got, strings.Join(tt.want, ","))
			}
		})
	}
	if len(sc["ServicePatch"].Required) != 0 {
		t.Errorf("ServicePatch requires %v, want nothing (merge patch)", sc["ServicePatch"].Required)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
