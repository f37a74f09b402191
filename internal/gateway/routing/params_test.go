package routing

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

// bodyBacking is a plugintest backing whose engine buffers and replaces
// bodies.
type bodyBacking struct {
	*plugintest.Backing
	body     []byte
	sent     []byte
	replaced bool
}

func (b *bodyBacking) BufferBody(max int64) ([]byte, error) {
	if int64(len(b.body)) > max {
		return nil, plugin.ErrBodyTooLarge
	}
	return b.body, nil
}

func (b *bodyBacking) SetUpstreamBody(p []byte) { b.sent, b.replaced = p, true }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// mapped runs the request filters of the route a request matches and
// answers what the backend would get.
func mapped(t *testing.T, r spec.Route, path, rawQuery string, header http.Header, body string) (*plugin.Exchange, *bodyBacking) {
	t.Helper()
	tbl, err := Build(snapshot(group("default", "", deployed("p", "svc", "", r))), Deps{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var ps match.Params
	rt, _, ok := tbl.Lookup("example.com", "POST", path, &ps)
	if !ok {
		t.Fatalf("no route for %s", path)
	}
	b := &bodyBacking{Backing: plugintest.New("10.0.0.1"), body: []byte(body)}
	b.ReqMethod, b.ReqPath, b.ReqRawQuery = "POST", path, rawQuery
	for k, v := range header {
		b.ReqHeader[k] = v
		b.UpstreamHeader[k] = v // the engine sends the client's headers
	}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if k, v, ok := strings.Cut(pair, "="); ok {
			b.ReqQuery[k] = v
		}
	}
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &rt.Info, &ps)
	for _, f := range rt.RequestFilters() {
		if f.OnRequest(ex) {
			break
		}
	}
	return ex, b
}

func TestParameterMapping(t *testing.T) {
	r := route("items", "/items/{id}")
	r.Parameters = []spec.Parameter{
		{Name: "uid", In: "query", Backend: &spec.ParameterTarget{In: "header", Name: "X-User-Id"}},
		{Name: "id", In: "path", Backend: &spec.ParameterTarget{In: "query", Name: "item"}},
		{Name: "page", In: "query", Type: "integer", Default: raw(`1`)},
		{Name: "lang", In: "header", Default: raw(`"en"`)},
		{Name: "session", In: "cookie", Backend: &spec.ParameterTarget{In: "header", Name: "X-Session"}},
	}
	r.Backend = &spec.Backend{Path: "/v1/items", Parameters: []spec.ConstParameter{
		{In: "header", Name: "X-Api-Key", Value: raw(`"k1"`)}, {In: "query", Name: "v", Value: raw(`2`)}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	ex, b := mapped(t, r, "/items/42", "uid=u7&keep=1", http.Header{"Cookie": {"a=1; session=s9; b=2"}}, "")
	if rej, st := ex.Rejected(); rej {
		t.Fatalf("rejected %d: %s", st, b.ErrorBody)
	}
	q, _ := ex.UpstreamQuery()
	if want := "keep=1&item=42&page=1&v=2"; q != want {
		t.Errorf("upstream query %q, want %q", q, want)
	}
	for name, want := range map[string]string{"X-User-Id": "u7", "X-Api-Key": "k1", "Lang": "en", "X-Session": "s9", "Cookie": "a=1; b=2"} {
		if got := b.UpstreamHeader.Get(name); got != want {
			t.Errorf("upstream %s = %q, want %q", name, got, want)
		}
	}
	if b.replaced {
		t.Errorf("the body was replaced though nothing maps into it: %s", b.sent)
	}

	// Given by the client, the default does not apply.
	ex, _ = mapped(t, r, "/items/42", "uid=u7&page=3", nil, "")
	if q, _ := ex.UpstreamQuery(); q != "page=3&item=42&v=2" {
		t.Errorf("upstream query %q", q)
	}
}

func TestParameterMappingBody(t *testing.T) {
	r := route("orders", "/orders")
	r.Parameters = []spec.Parameter{
		{Name: "uid", In: "query", Type: "integer", Backend: &spec.ParameterTarget{In: "body", Pointer: "/user/id"}},
		{Name: "X-Trace", In: "header", Backend: &spec.ParameterTarget{In: "body", Pointer: "/meta/trace"}},
		{Name: "sku", In: "body", Pointer: "/item/sku", Backend: &spec.ParameterTarget{In: "header", Name: "X-Sku"}},
		{Name: "qty", In: "body", Type: "integer", Default: raw(`1`)},
	}
	r.Backend = &spec.Backend{Parameters: []spec.ConstParameter{{In: "body", Pointer: "/source", Value: raw(`"gw"`)}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	ex, b := mapped(t, r, "/orders", "uid=7", http.Header{"X-Trace": {"t-1"}}, `{"item":{"sku":"A-1","n":2.50},"note":"x"}`)
	if rej, st := ex.Rejected(); rej {
		t.Fatalf("rejected %d: %s", st, b.ErrorBody)
	}
	if !b.replaced {
		t.Fatal("the body was not replaced")
	}
	var got, want any
	_ = json.Unmarshal(b.sent, &got)
	_ = json.Unmarshal([]byte(`{"item":{"n":2.50},"note":"x","user":{"id":7},"meta":{"trace":"t-1"},"qty":1,"source":"gw"}`), &want)
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Errorf("body %s, want %s", b.sent, w)
	}
	if !strings.Contains(string(b.sent), `2.50`) {
		t.Errorf("a number's text changed: %s", b.sent)
	}
	if b.UpstreamHeader.Get("X-Sku") != "A-1" || b.UpstreamHeader.Get("X-Trace") != "" {
		t.Errorf("headers %v", b.UpstreamHeader)
	}
	if q, _ := ex.UpstreamQuery(); q != "" {
		t.Errorf("uid stayed in the query: %q", q)
	}
	if b.UpstreamHeader.Get("Content-Type") != "application/json" {
		t.Errorf("no Content-Type for the new body")
	}

	for _, c := range []struct {
		name, query, body string
		status            int
	}{
		{"not an integer", "uid=x", `{}`, 400},
		{"not an object", "uid=1", `[1]`, 400},
		{"not JSON", "uid=1", `{`, 400},
		{"too large", "uid=1", `{"a":"` + strings.Repeat("x", maxMappedBody) + `"}`, 413},
	} {
		ex, b := mapped(t, r, "/orders", c.query, nil, c.body)
		if rej, st := ex.Rejected(); !rej || st != c.status {
			t.Errorf("%s: rejected %v %d, want %d (%s)", c.name, rej, st, c.status, b.ErrorBody)
		}
	}
}

func TestParameterMappingPathTarget(t *testing.T) {
	r := route("user", "/user")
	r.Parameters = []spec.Parameter{{Name: "uid", In: "query", Backend: &spec.ParameterTarget{In: "path", Name: "uid"}}}
	r.Backend = &spec.Backend{Path: "/users/{uid}/profile"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	ex, _ := mapped(t, r, "/user", "uid=u1", nil, "")
	if got := ex.UpstreamPath(); got != "/users/u1/profile" {
		t.Errorf("upstream path %q", got)
	}
	for _, q := range []string{"uid=..", "uid=a/b", ""} {
		ex, b := mapped(t, r, "/user", q, nil, "")
		if rej, st := ex.Rejected(); !rej || st != 400 {
			t.Errorf("%q: rejected %v %d (%s)", q, rej, st, b.ErrorBody)
		}
	}
}

// TestParameterMappingHeaderInjection: a value that would split a header
// is refused, not sent.
func TestParameterMappingHeaderInjection(t *testing.T) {
	r := route("r", "/r")
	r.Parameters = []spec.Parameter{{Name: "uid", In: "body", Backend: &spec.ParameterTarget{In: "header", Name: "X-User"}}}
	ex, b := mapped(t, r, "/r", "", nil, `{"uid":"a\r\nX-Admin: 1"}`)
	if rej, st := ex.Rejected(); !rej || st != 400 || b.UpstreamHeader.Get("X-User") != "" {
		t.Errorf("rejected %v %d, header %q", rej, st, b.UpstreamHeader.Get("X-User"))
	}
}

// TestNoMappingNoFilter: a route that maps nothing gets no filter.
func TestNoMappingNoFilter(t *testing.T) {
	r := route("r", "/r/{id}")
	r.Parameters = []spec.Parameter{{Name: "id", In: "path", Required: true}, {Name: "q", In: "query", Type: "integer"}}
	tbl, err := Build(snapshot(group("default", "", deployed("p", "svc", "", r))), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var ps match.Params
	rt, _, _ := tbl.Lookup("example.com", "GET", "/r/1", &ps)
	if n := len(rt.RequestFilters()); n != 0 {
		t.Errorf("%d request filters on a route that maps nothing", n)
	}
}

// TestMappingRunsBeforeTransformPlugins: the mapping is the first filter
// of the transform phase.
func TestMappingRunsBeforeTransformPlugins(t *testing.T) {
	r := route("r", "/r")
	r.Parameters = []spec.Parameter{{Name: "a", In: "query", Backend: &spec.ParameterTarget{In: "header", Name: "X-A"}}}
	r.Plugins = spec.Plugins{"proxy-rewrite": raw(`{"uri":"/x"}`), "key-auth": raw(`{}`)}
	tbl, err := Build(snapshot(group("default", "", deployed("p", "svc", "", r))), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var ps match.Params
	rt, _, _ := tbl.Lookup("example.com", "GET", "/r", &ps)
	var names []string
	for i := range rt.RequestFilters() {
		names = append(names, rt.RequestFilterName(i))
	}
	if got := strings.Join(names, ","); got != "key-auth,parameters,proxy-rewrite" {
		t.Errorf("filters %s", got)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
