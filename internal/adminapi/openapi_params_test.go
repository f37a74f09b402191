package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/golden"

	"github.com/portico-gw/portico/internal/spec"
)

// TestOpenAPIDocumentValidates loads the admin API's own document with
// kin-openapi and validates it: what clients and code generators will do
// with it first. kin-openapi reads OpenAPI 3.1 (it switches to JSON Schema
// 2020-12 for 3.1 documents), so the whole document is validated, schemas
// included.
func TestOpenAPIDocumentValidates(t *testing.T) {
	b := buildOpenAPI((&server{}).endpoints(), "v")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want a 3.1 document", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is invalid: %v", err)
	}
}

// TestOpenAPIDocumentHasNoNull: nothing in the document may be null (a
// parameter the table names but nobody described used to be one).
func TestOpenAPIDocumentHasNoNull(t *testing.T) {
	var v any
	if err := json.Unmarshal(buildOpenAPI((&server{}).endpoints(), "v"), &v); err != nil {
		t.Fatal(err)
	}
	var nulls []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case nil:
			nulls = append(nulls, path)
		case map[string]any:
			for k, x := range v {
				walk(x, path+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, path+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(v, "")
	sort.Strings(nulls)
	for _, p := range nulls {
		t.Errorf("null at %s", p)
	}
}

// TestOpenAPIParametersDescribed checks every operation's parameters
// against the route table and against the handler code: each path
// parameter has a description, and each query parameter the handler reads
// (found by reading the package's source, see queryReads) is in the
// operation with a type and a description, and nothing else is.
func TestOpenAPIParametersDescribed(t *testing.T) {
	type param struct {
		Name        string         `json:"name"`
		In          string         `json:"in"`
		Description string         `json:"description"`
		Schema      map[string]any `json:"schema"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []param `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(buildOpenAPI((&server{}).endpoints(), "v"), &doc); err != nil {
		t.Fatal(err)
	}
	reads := queryReads(t)
	// The analysis must see reads through a variable, inside a closure and
	// through a helper, or it proves nothing.
	for fn, want := range map[string][]string{"importOpenAPI": {"dry_run", "mock", "service"}, "listProjects": {"page", "page_size", "q"}, "exportOpenAPI": {"format"}} {
		for _, p := range want {
			if !reads[fn][p] {
				t.Fatalf("queryReads misses ?%s= of %s: %v", p, fn, reads[fn])
			}
		}
	}
	pathParam := regexp.MustCompile(`\{([a-z]+)\}`)
	for _, ep := range (&server{}).endpoints() {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			op := doc.Paths[ep.path][strings.ToLower(ep.method)]
			described := map[string]string{}
			for _, p := range op.Parameters {
				if p.Description == "" {
					t.Errorf("%s parameter %q has no description", p.In, p.Name)
				}
				if p.Schema["type"] == nil {
					t.Errorf("%s parameter %q has no type", p.In, p.Name)
				}
				if p.In == "query" {
					described[p.Name] = p.Description
				}
			}
			for _, m := range pathParam.FindAllStringSubmatch(ep.path, -1) {
				if !slices.ContainsFunc(op.Parameters, func(p param) bool { return p.In == "path" && p.Name == m[1] }) {
					t.Errorf("path parameter %q is not described", m[1])
				}
			}
			for _, name := range ep.query {
				if _, ok := queryParams[name]; !ok {
					t.Errorf("query parameter %q is named in the table but not in queryParams", name)
				}
			}
			if ep.handle == nil {
				return
			}
			fn := handlerName(ep.handle)
			read, ok := reads[fn]
			if !ok {
				t.Fatalf("handler %s not found in the package source", fn)
			}
			for name := range read {
				if name == "q" && ignoresSearch[fn] {
					continue
				}
				if _, ok := described[name]; !ok {
					t.Errorf("handler %s reads ?%s=, which the document does not describe", fn, name)
				}
			}
			for name := range described {
				if !read[name] || (name == "q" && ignoresSearch[fn]) {
					t.Errorf("the document describes ?%s=, which handler %s does not use", name, fn)
				}
			}
		})
	}
}

// ignoresSearch are the list handlers that read ?q= through listQuery but
// do not filter by it (histories and canary tasks have no name; the store
// pages subscriptions by application and service only): offering q there
// would describe a filter that does nothing.
var ignoresSearch = map[string]bool{
	"history":               true,
	"listCanaries":          true,
	"listSubscriptions":     true,
	"listApprovals":         true,
	"listWebhookDeliveries": true,
}

// handlerName is the name of the function behind a table row's handler:
// the method of (*call).name, or the function that built a closure.
func handlerName(h func(*call) (any, error)) string {
	name := runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
	name = name[strings.LastIndexByte(name, '/')+1:]
	name = strings.TrimSuffix(name, "-fm")
	if i := strings.Index(name, ".func"); i >= 0 {
		name = name[:i]
	}
	return name[strings.LastIndexByte(name, '.')+1:]
}

// queryReads parses the package's non-test source and answers, for every
// function and method by name, the query parameters it reads, directly or
// through the functions of this package it calls. A read is
// X.Query().Get("name"), X.Query()["name"], or the same on a variable
// holding X.Query(); a read with a name that is not a literal fails the
// test unless dynamicReads lists the function.
func queryReads(t *testing.T) map[string]map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]map[string]bool{}
	calls := map[string]map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if direct[name] == nil {
				direct[name], calls[name] = map[string]bool{}, map[string]bool{}
			}
			queryVars := map[string]bool{} // variables holding X.Query()
			isQuery := func(e ast.Expr) bool {
				if id, ok := e.(*ast.Ident); ok {
					return queryVars[id.Name]
				}
				c, ok := e.(*ast.CallExpr)
				if !ok {
					return false
				}
				sel, ok := c.Fun.(*ast.SelectorExpr)
				return ok && sel.Sel.Name == "Query" && len(c.Args) == 0
			}
			read := func(arg ast.Expr) {
				if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					direct[name][s] = true
					return
				}
				if _, ok := dynamicReads[name]; !ok {
					t.Errorf("%s: %s reads a query parameter whose name is not a literal; list it in dynamicReads", fset.Position(arg.Pos()), name)
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					for i, r := range n.Rhs {
						if i >= len(n.Lhs) {
							break
						}
						if id, ok := n.Lhs[i].(*ast.Ident); ok && isQuery(r) {
							queryVars[id.Name] = true
						}
					}
				case *ast.IndexExpr:
					if isQuery(n.X) {
						read(n.Index)
					}
				case *ast.CallExpr:
					fun := n.Fun
					if ix, ok := fun.(*ast.IndexExpr); ok { // generic instance
						fun = ix.X
					}
					switch fun := fun.(type) {
					case *ast.SelectorExpr:
						if fun.Sel.Name == "Get" && len(n.Args) == 1 && isQuery(fun.X) {
							read(n.Args[0])
						}
						calls[name][fun.Sel.Name] = true
					case *ast.Ident:
						calls[name][fun.Name] = true
					}
				}
				return true
			})
		}
	}
	for name, params := range dynamicReads {
		if direct[name] == nil {
			t.Errorf("dynamicReads names %s, which is not in the package", name)
			continue
		}
		for _, p := range params {
			direct[name][p] = true
		}
	}
	out := map[string]map[string]bool{}
	var closure func(name string, seen map[string]bool, into map[string]bool)
	closure = func(name string, seen map[string]bool, into map[string]bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		for p := range direct[name] {
			into[p] = true
		}
		for c := range calls[name] {
			if _, ok := direct[c]; ok {
				closure(c, seen, into)
			}
		}
	}
	for name := range direct {
		out[name] = map[string]bool{}
		closure(name, map[string]bool{}, out[name])
	}
	return out
}

// dynamicReads are the functions that read query parameters by a name
// held in a variable, with the names they read.
var dynamicReads = map[string][]string{
	"readPackageRequest": {"upstream", "data_source"},
}

// TestStructFieldsAgree holds the strict decoder and the OpenAPI schema to
// one walk of a struct: for each type, the members the schema describes are
// exactly those the decoder accepts, embedded structs included.
func TestStructFieldsAgree(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B string `json:"b"`
	}
	type other struct {
		B string `json:"b"`
		C string `json:"c"`
	}
	type shadow struct {
		inner
		*other
		A string `json:"a,omitempty"` // shallower: hides inner.A
	}
	type before struct {
		A int `json:"a"` // declared before the embedded struct it hides
		inner
	}
	for _, ty := range []reflect.Type{
		reflect.TypeFor[shadow](),
		reflect.TypeFor[before](),
		reflect.TypeFor[spec.DataSource](),
		reflect.TypeFor[publishResponse](),
		reflect.TypeFor[spec.Service](),
		reflect.TypeFor[spec.Route](),
	} {
		t.Run(ty.String(), func(t *testing.T) {
			g := &schemas{defs: obj{}, names: map[string]reflect.Type{}}
			props := g.object(ty, false)["properties"].(obj)
			var described []string
			for name := range props {
				described = append(described, name)
			}
			var accepted []string
			for name, ft := range jsonFields(ty) {
				accepted = append(accepted, name)
				// Same type too (wrappers for notes and readOnly aside).
				got, _ := json.Marshal(props[name])
				want, _ := json.Marshal(g.of(ft, false))
				if p, ok := props[name].(obj); ok && (p["allOf"] != nil || p["readOnly"] != nil || p["description"] != nil) {
					continue
				}
				if string(got) != string(want) {
					t.Errorf("%s: schema %s, decoder decodes into %s (%s)", name, got, ft, want)
				}
			}
			sort.Strings(described)
			sort.Strings(accepted)
			if fmt.Sprint(described) != fmt.Sprint(accepted) {
				t.Errorf("schema describes %v, decoder accepts %v", described, accepted)
			}
		})
	}
	// encoding/json drops b (two embedded at one depth, neither wins) and
	// lets the outer a hide inner's.
	got := jsonFields(reflect.TypeFor[shadow]())
	if _, ok := got["b"]; ok {
		t.Errorf("b is ambiguous (inner.B and other.B) and must not be a member: %v", got)
	}
	for _, want := range []string{"a", "c"} {
		if _, ok := got[want]; !ok {
			t.Errorf("%s missing from %v", want, got)
		}
	}
	b, _ := json.Marshal(shadow{inner: inner{B: "x"}, other: &other{B: "y", C: "z"}})
	if string(b) != `{"c":"z"}` {
		t.Errorf("encoding/json writes %s; the walker must follow it", b)
	}
}

// TestDataSourceInternalFieldsHidden: a data source's sealed and opened
// password are not part of the admin API, neither in the document nor
// accepted in a body.
func TestDataSourceInternalFieldsHidden(t *testing.T) {
	b := buildOpenAPI((&server{}).endpoints(), "v")
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"DataSource", "DataSourcePatch"} {
		props := d.Components.Schemas[schema].Properties
		if props == nil {
			t.Fatalf("no schema %s", schema)
		}
		for _, f := range []string{"sealed", "secret"} {
			if _, ok := props[f]; ok {
				t.Errorf("%s describes the internal field %s", schema, f)
			}
		}
	}
	var ds spec.DataSource
	err := strictDecode([]byte(`{"name":"db","type":"postgres","host":"h","database":"d","user":"u","sealed":"x","secret":"y"}`), &ds)
	if err == nil || !strings.Contains(err.Error(), "sealed") || !strings.Contains(err.Error(), "secret") {
		t.Errorf("strictDecode with sealed and secret: %v, want both refused", err)
	}
}

// TestOpenAPIDocumentGolden pins the admin API's whole OpenAPI document, so
// every change to the API's contract shows as a diff of
// testdata/admin-openapi.json.golden (go test ./internal/adminapi -run
// Golden -update).
func TestOpenAPIDocumentGolden(t *testing.T) {
	golden.Check(t, "admin-openapi.json.golden", buildOpenAPI((&server{}).endpoints(), "golden"))
}
