package openapi

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzImport: no input makes Import panic or hang; whatever it accepts
// exports and re-imports.
func FuzzImport(f *testing.F) {
	for _, name := range testFiles {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(planV1))
	f.Add([]byte(`{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a/{b}":{"get":{"parameters":[{"name":"b","in":"path","required":true}]}}}}`))
	f.Add([]byte(`swagger: "2.0"` + "\ninfo: {title: t, version: v}\npaths: {}"))
	f.Add(compositeDoc(`{"steps":[{"name":"a","service":"s","route":"r","fallback":{"x":1}}],"response":{"body":"steps.a.body"}}`))
	f.Add(compositeDoc(`{"steps":[{"name":"a","path":"/x/{id}","params":{"id":"1"},"after":["a"]}],"response":{"status":99}}`))
	f.Add([]byte(strings.Repeat("[", 300)))
	f.Add([]byte("a: &a [*a, *a]\nb: [*a, *a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, Options{Mock: true})
		if err != nil {
			return
		}
		svc := stored(res)
		doc, err := Export(svc, ExportOptions{Portico: true})
		if err != nil {
			t.Fatalf("Export of an accepted document: %v", err)
		}
		if _, err := Marshal(doc, true); err != nil {
			t.Fatalf("Marshal: %v", err)
		}
	})
}

// bigDocument is a document of n operations (n/4 paths of 4 methods), with
// parameters, bodies, references and examples, as a large real API has.
func bigDocument(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"openapi": "3.0.3", "info": {"title": "Big", "version": "1"},
"servers": [{"url": "https://big.example.com/api"}],
"components": {"schemas": {"Item": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string", "nullable": true}}}},
  "securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "apikey"}}},
"security": [{"k": []}],
"paths": {`)
	for i := 0; i < n/4; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"/r%d/items/{id}": {
  "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
  "get": {"operationId": "get%d", "summary": "Get %d", "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}, "example": {"id": %d}}}}}},
  "put": {"operationId": "put%d", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
    "responses": {"200": {"description": "ok"}}},
  "patch": {"operationId": "patch%d", "responses": {"200": {"description": "ok"}}},
  "delete": {"operationId": "delete%d", "responses": {"204": {"description": "gone"}}}}`, i, i, i, i, i, i, i)
	}
	b.WriteString("}}")
	return []byte(b.String())
}

// BenchmarkImport1000 imports a 1 000-operation document and plans its
// re-import (what POST …/services/import computes before writing); the
// acceptance goal is under 2 s.
func BenchmarkImport1000(b *testing.B) {
	doc := bigDocument(1000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := Import(doc, Options{Mock: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Service.Routes) != 1000 {
			b.Fatalf("%d routes", len(res.Service.Routes))
		}
		if p := NewPlan(res, stored(res)); p.Changed() {
			b.Fatal("re-import of the same document changes")
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(worst.Seconds(), "worst-s")
	if worst > 2*time.Second {
		b.Errorf("importing 1 000 operations took %v, goal under 2 s", worst)
	}
}
