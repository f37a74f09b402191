package portal

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// find answers the first node called name under n (depth first).
func find(n *schemaNode, name string) *schemaNode {
	if n == nil {
		return nil
	}
	if n.Name == name {
		return n
	}
	for _, c := range n.Children {
		if f := find(c, name); f != nil {
			return f
		}
	}
	return nil
}

func onlyOp(t *testing.T, d apiDoc) *operation {
	t.Helper()
	if d.Err != "" || len(d.Groups) != 1 || len(d.Groups[0].Ops) != 1 {
		t.Fatalf("doc = %+v", d)
	}
	return d.Groups[0].Ops[0]
}

// docWith is a document of one POST /x whose JSON body is schema, with
// schemas as its components.
func docWith(schema, schemas string) []byte {
	return fmt.Appendf(nil, `{"openapi":"3.1.0","info":{"title":"t","version":"1"},
	  "paths":{"/x":{"post":{"requestBody":{"content":{"application/json":{"schema":%s}}},"responses":{"204":{"description":"ok"}}}}},
	  "components":{"schemas":%s}}`, schema, schemas)
}

func TestSchemaTrees(t *testing.T) {
	for _, tc := range []struct {
		name, schema, schemas string
		check                 func(t *testing.T, root *schemaNode)
	}{
		{"ref and required", `{"$ref":"#/components/schemas/A"}`, `{"A":{"type":"object","required":["b"],"properties":{"b":{"type":"string","format":"email"},"c":{"type":["integer","null"]}}}}`,
			func(t *testing.T, root *schemaNode) {
				if root.Ref != "A" || root.Type != "object" {
					t.Errorf("root = %+v", root)
				}
				if b := find(root, "b"); b == nil || !b.Required || b.Type != "string (email)" {
					t.Errorf("b = %+v", b)
				}
				if c := find(root, "c"); c == nil || c.Required || c.Type != "integer | null" {
					t.Errorf("c = %+v", c)
				}
			}},
		{"self cycle", `{"$ref":"#/components/schemas/Node"}`, `{"Node":{"type":"object","properties":{"next":{"$ref":"#/components/schemas/Node"}}}}`,
			func(t *testing.T, root *schemaNode) {
				if n := find(root, "next"); n == nil || n.Note != "cycle" || len(n.Children) != 0 {
					t.Errorf("next = %+v", n)
				}
			}},
		{"mutual cycle through arrays", `{"$ref":"#/components/schemas/A"}`, `{"A":{"properties":{"bs":{"type":"array","items":{"$ref":"#/components/schemas/B"}}}},"B":{"properties":{"a":{"$ref":"#/components/schemas/A"}}}}`,
			func(t *testing.T, root *schemaNode) {
				bs := find(root, "bs")
				if bs == nil || bs.Type != "array<B>" {
					t.Fatalf("bs = %+v", bs)
				}
				if a := find(bs, "a"); a == nil || a.Note != "cycle" {
					t.Errorf("a = %+v", a)
				}
			}},
		{"a ref loop with no schema", `{"$ref":"#/components/schemas/A"}`, `{"A":{"$ref":"#/components/schemas/B"},"B":{"$ref":"#/components/schemas/A"}}`,
			func(t *testing.T, root *schemaNode) {
				if root.Note != "cycle" {
					t.Errorf("root = %+v", root)
				}
			}},
		{"allOf merges and keeps required", `{"allOf":[{"$ref":"#/components/schemas/A"},{"required":["a"],"properties":{"z":{"type":"boolean"}}}]}`, `{"A":{"type":"object","properties":{"a":{"type":"string"}}}}`,
			func(t *testing.T, root *schemaNode) {
				if root.Type != "object" || find(root, "z") == nil {
					t.Errorf("root = %+v", root)
				}
				if a := find(root, "a"); a == nil {
					t.Error("allOf lost a")
				}
			}},
		{"oneOf alternatives", `{"oneOf":[{"$ref":"#/components/schemas/A"},{"type":"string"}]}`, `{"A":{"type":"object","properties":{"a":{"type":"string"}}}}`,
			func(t *testing.T, root *schemaNode) {
				if len(root.Children) != 1 || root.Children[0].Variant != "oneOf" || len(root.Children[0].Children) != 2 || root.Children[0].Children[0].Name != "A" {
					t.Errorf("root = %+v", root)
				}
			}},
		{"external and dangling refs", `{"properties":{"e":{"$ref":"other.yaml#/X"},"d":{"$ref":"#/components/schemas/Missing"}}}`, `{}`,
			func(t *testing.T, root *schemaNode) {
				if e := find(root, "e"); e == nil || e.Note != "external" {
					t.Errorf("e = %+v", e)
				}
				if d := find(root, "d"); d == nil || d.Note != "external" || d.Type != "Missing" {
					t.Errorf("d = %+v", d)
				}
			}},
		{"escaped pointer", `{"$ref":"#/components/schemas/a~1b"}`, `{"a/b":{"type":"string","enum":["x","y"]}}`,
			func(t *testing.T, root *schemaNode) {
				if root.Type != "string" || root.Enum != `"x", "y"` {
					t.Errorf("root = %+v", root)
				}
			}},
		{"depth is capped", nested(30), `{}`,
			func(t *testing.T, root *schemaNode) {
				depth := 0
				for n := root; len(n.Children) > 0; n = n.Children[0] {
					depth++
					if depth > maxDepth+1 {
						t.Fatal("deeper than maxDepth")
					}
				}
			}},
		{"hostile types are ignored", `{"type":7,"properties":[1,2],"required":"all","enum":{"a":1},"items":"x"}`, `{}`,
			func(t *testing.T, root *schemaNode) {
				if root == nil {
					t.Error("no root")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := renderDoc(docWith(tc.schema, tc.schemas))
			op := onlyOp(t, d)
			if op.Body == nil || len(op.Body.Media) != 1 || op.Body.Media[0].Schema == nil {
				t.Fatalf("body = %+v", op.Body)
			}
			tc.check(t, op.Body.Media[0].Schema)
		})
	}
}

func nested(n int) string {
	s := `{"type":"string"}`
	for range n {
		s = `{"type":"object","properties":{"a":` + s + `}}`
	}
	return s
}

// TestExponentialSchemaIsCapped: a chain of components each holding ten
// references to the next is 10^12 nodes written out; the budget stops it.
func TestExponentialSchemaIsCapped(t *testing.T) {
	var comps []string
	for i := range 12 {
		var props []string
		for j := range 10 {
			props = append(props, fmt.Sprintf(`"p%d":{"$ref":"#/components/schemas/S%d"}`, j, i+1))
		}
		comps = append(comps, fmt.Sprintf(`"S%d":{"type":"object","properties":{%s}}`, i, strings.Join(props, ",")))
	}
	comps = append(comps, `"S12":{"type":"string"}`)
	d := renderDoc(docWith(`{"$ref":"#/components/schemas/S0"}`, "{"+strings.Join(comps, ",")+"}"))
	if !d.Capped {
		t.Error("not marked capped")
	}
	count := 0
	var walk func(n *schemaNode)
	walk = func(n *schemaNode) {
		count++
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(onlyOp(t, d).Body.Media[0].Schema)
	if count > maxOpNodes+10 {
		t.Errorf("%d nodes rendered", count)
	}
}

func TestOperationsGroupedAndParameters(t *testing.T) {
	doc := `{"openapi":"3.0.0","info":{"title":"t","version":"2"},
	  "tags":[{"name":"b","description":"second tag first"},{"name":"a"}],
	  "paths":{
	    "/z":{"get":{"tags":["a"],"summary":"za"},"delete":{"tags":["b"]}},
	    "/y/{id}":{"parameters":[{"name":"id","in":"path","schema":{"type":"string"}},{"name":"q","in":"query","description":"path level"}],
	      "get":{"parameters":[{"name":"q","in":"query","description":"op level","required":true}],"responses":{"default":{"description":"d"},"404":{"description":"n"},"200":{"description":"o"}}}},
	    "/untagged":{"post":{"operationId":"make it"}}
	  }}`
	d := renderDoc([]byte(doc))
	var names []string
	for _, g := range d.Groups {
		names = append(names, fmt.Sprintf("%s:%d", g.Name, len(g.Ops)))
	}
	if got := strings.Join(names, " "); got != "b:1 a:1 :2" {
		t.Fatalf("groups = %s", got)
	}
	var y *operation
	for _, op := range d.Groups[2].Ops {
		if op.Path == "/y/{id}" {
			y = op
		}
	}
	if y == nil || len(y.Params) != 2 {
		t.Fatalf("/y = %+v", y)
	}
	if y.Params[0].Name != "q" || y.Params[0].Description != "op level" || !y.Params[0].Required {
		t.Errorf("the operation's q must win: %+v", y.Params[0])
	}
	if !y.Params[1].Required {
		t.Errorf("a path parameter is required: %+v", y.Params[1])
	}
	var codes []string
	for _, r := range y.Responses {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, ",") != "200,404,default" {
		t.Errorf("responses = %v", codes)
	}
	if a := d.Groups[2].Ops[0].Anchor; a != "op-make-it" {
		t.Errorf("anchor = %q", a)
	}
}

func TestSampleBody(t *testing.T) {
	d := renderDoc(docWith(`{"$ref":"#/components/schemas/A"}`, `{"A":{"type":"object","properties":{
	  "id":{"type":"integer","readOnly":true},"name":{"type":"string","example":"Rex"},"at":{"type":"string","format":"date-time"},
	  "tags":{"type":"array","items":{"type":"string","enum":["a","b"]}},"self":{"$ref":"#/components/schemas/A"}}}}`))
	var got map[string]any
	if err := json.Unmarshal([]byte(onlyOp(t, d).Sample), &got); err != nil {
		t.Fatalf("sample %q: %v", onlyOp(t, d).Sample, err)
	}
	if got["name"] != "Rex" || got["at"] != "2026-01-01T00:00:00Z" || fmt.Sprint(got["tags"]) != "[a]" {
		t.Errorf("sample = %v", got)
	}
	if _, ok := got["id"]; ok {
		t.Error("a read-only field is in the sample")
	}
	if _, ok := got["self"]; ok {
		t.Error("the cycle is in the sample")
	}
}

func TestNotADocument(t *testing.T) {
	for _, raw := range []string{"", "[]", "null", "{", `"x"`} {
		if d := renderDoc([]byte(raw)); d.Err == "" {
			t.Errorf("%q: no error", raw)
		}
	}
	if d := renderDoc([]byte(`{"paths":{"/a":{"get":{}}},"info":{"description":"` + strings.Repeat("é", maxText+10) + `"}}`)); len([]rune(d.Description)) != maxText+1 {
		t.Errorf("description of %d runes", len([]rune(d.Description)))
	}
}

// FuzzRenderDoc: no document panics the renderer or makes it run away.
func FuzzRenderDoc(f *testing.F) {
	f.Add([]byte(petDoc))
	f.Add(docWith(`{"$ref":"#/components/schemas/A"}`, `{"A":{"$ref":"#/components/schemas/A"}}`))
	f.Add(docWith(`{"allOf":[{"$ref":"#"}]}`, `{}`))
	f.Add(docWith(`{"oneOf":[{"$ref":"#/paths"}],"items":{"$ref":"#/components"}}`, `{"x":[1,{"$ref":"#/components/schemas/x/1"}]}`))
	f.Add([]byte(`{"paths":{"/a":{"$ref":"#/paths"},"/b":{"get":{"parameters":[{"$ref":"#/paths/~1b/get/parameters/0"}]}}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := renderDoc(raw)
		for _, g := range d.Groups {
			for _, op := range g.Ops {
				if !strings.HasPrefix(op.Anchor, "op-") {
					t.Fatalf("anchor %q", op.Anchor)
				}
			}
		}
	})
}
