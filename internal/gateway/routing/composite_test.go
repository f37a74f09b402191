package routing

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/compose"
	"github.com/portico-gw/portico/internal/spec"
)

// composite is a route whose backend is the composite flow written as
// JSON.
func composite(t testing.TB, name, path, flow string) spec.Route {
	t.Helper()
	var c spec.CompositeBackend
	if err := json.Unmarshal([]byte(flow), &c); err != nil {
		t.Fatalf("bad test flow: %v", err)
	}
	return withBackend(route(name, path), spec.Backend{Type: spec.BackendComposite, Composite: &c})
}

const profileFlow = `{"steps":[{"name":"user","service":"users","route":"get-user","params":{"id":"request.params.id"}}],
	"response":{"body":"steps.user.body"}}`

func TestCompositeRouteCompiles(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "/{project}",
		deployed("p", "users", "/users", withMethods(route("get-user", "/{id}"), "GET")),
		deployed("p", "profile", "/profile", composite(t, "agg", "/{id}", profileFlow)))))
	rt, _, _ := lookup(tbl, "x", "GET", "/p/profile/7")
	if rt == nil {
		t.Fatal("the composite route is not served")
	}
	fs := rt.RequestFilters()
	if len(fs) == 0 || rt.RequestFilterName(len(fs)-1) != compositeName {
		t.Fatalf("the composite filter is not the route's last: %d filters", len(fs))
	}
	// A validation build sends no calls: its caller says so.
	cc := &compositeCaller{group: "g", project: "p"}
	if _, err := cc.Call(context.Background(), &compose.Call{Service: "users", Route: "get-user"}); !errors.Is(err, errNoCalls) {
		t.Errorf("a validation build's call: %v, want errNoCalls", err)
	}
}

func TestCompositeFlowErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, flow string
		want       []string
	}{
		{"bad expression", `{"steps":[{"name":"a","path":"/a"}],"response":{"body":"steps.a.body +"}}`,
			[]string{"services[profile].routes[agg].backend.composite.response.body"}},
		{"unknown step read", `{"steps":[{"name":"a","path":"/a","body":"steps.nope.body"}],"response":{"body":"steps.a.body"}}`,
			[]string{"services[profile].routes[agg].backend.composite.steps[0].body"}},
		{"the route calling itself", `{"steps":[{"name":"a","path":"/a"},{"name":"b","service":"profile","route":"agg"}],"response":{"body":"steps.a.body"}}`,
			[]string{"services[profile].routes[agg].backend.composite.steps[1].route"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := snapshot(group("g", "", deployed("p", "profile", "/profile", composite(t, "agg", "/agg", tt.flow))))
			err := Validate(snap)
			if err == nil {
				t.Fatal("a bad flow was accepted")
			}
			if got := fields(fieldErrors(t, err)); !slices.Equal(got, tt.want) {
				t.Errorf("fields %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestResolveCall(t *testing.T) {
	users := deployed("p", "users", "/users",
		withMethods(route("get-user", "/{id}"), "GET", "HEAD"),
		route("any", "/any/{id}"),
		withMethods(route("me", "/me"), "GET"),
		route("files", "/files/*"),
		route("two", "/two", "/two/{id}"),
		withHosts(route("hosted", "/hosted"), "*.example.com"),
		offline(route("off", "/off")))
	other := deployed("q", "users", "/users", route("get-user", "/{id}"))
	other.Service.ID = "q-users-id"
	tbl := mustBuild(t, snapshot(group("g", "/{project}", users, other)))
	tests := []struct {
		name, service, route, method string
		params                       map[string]string
		want                         CallTarget // Path, RawPath, Method, Host
		err                          string
		notRunning                   bool
	}{
		{name: "first method", service: "users", route: "get-user", params: map[string]string{"id": "7"},
			want: CallTarget{Method: "GET", Path: "/p/users/7", RawPath: "/p/users/7"}},
		{name: "any method", service: "users", route: "any", method: "", params: map[string]string{"id": "7"},
			want: CallTarget{Method: "GET", Path: "/p/users/any/7", RawPath: "/p/users/any/7"}},
		{name: "method given", service: "users", route: "any", method: "POST", params: map[string]string{"id": "7"},
			want: CallTarget{Method: "POST", Path: "/p/users/any/7", RawPath: "/p/users/any/7"}},
		{name: "escaped", service: "users", route: "get-user", params: map[string]string{"id": "a b?#%"},
			want: CallTarget{Method: "GET", Path: "/p/users/a b?#%", RawPath: "/p/users/a%20b%3F%23%25"}},
		{name: "wildcard", service: "users", route: "files", params: map[string]string{"*": "a/b c"},
			want: CallTarget{Method: "GET", Path: "/p/users/files/a/b c", RawPath: "/p/users/files/a/b%20c"}},
		{name: "empty wildcard", service: "users", route: "files",
			want: CallTarget{Method: "GET", Path: "/p/users/files/", RawPath: "/p/users/files/"}},
		{name: "the path the params fill", service: "users", route: "two", params: map[string]string{"id": "9"},
			want: CallTarget{Method: "GET", Path: "/p/users/two", RawPath: "/p/users/two"}},
		{name: "a wildcard host", service: "users", route: "hosted",
			want: CallTarget{Method: "GET", Path: "/p/users/hosted", RawPath: "/p/users/hosted", Host: "composite.example.com"}},
		{name: "a slash cannot add a segment", service: "users", route: "get-user", params: map[string]string{"id": "../x"}, err: "holds \"/\""},
		{name: "nor can a dot segment climb", service: "users", route: "get-user", params: map[string]string{"id": ".."}, err: "dot segment"},
		{name: "nor in a wildcard", service: "users", route: "files", params: map[string]string{"*": "a/../../x"}, err: "dot segment"},
		{name: "an encoded slash", service: "users", route: "get-user", params: map[string]string{"id": "a%2Fb"},
			want: CallTarget{Method: "GET", Path: "/p/users/a%2Fb", RawPath: "/p/users/a%252Fb"}},
		{name: "a control byte", service: "users", route: "get-user", params: map[string]string{"id": "a\x00"}, err: "holds"},
		{name: "an empty value", service: "users", route: "get-user", params: map[string]string{"id": ""}, err: "empty"},
		{name: "a missing parameter", service: "users", route: "get-user", err: "parameter id is not given"},
		{name: "an offline route", service: "users", route: "off", notRunning: true},
		{name: "an unknown route", service: "users", route: "nope", notRunning: true},
		{name: "an unknown service", service: "nobody", route: "get-user", notRunning: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tbl.ResolveCall("g", "p", tt.service, tt.route, tt.method, tt.params)
			switch {
			case tt.notRunning:
				if !errors.Is(err, compose.ErrNotRunning) {
					t.Fatalf("error %v, want ErrNotRunning", err)
				}
				return
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			tt.want.ServiceID, tt.want.Route = "users-id", tt.route
			if got != tt.want {
				t.Errorf("target %+v, want %+v", got, tt.want)
			}
		})
	}
	// The other project's service of the same name is its own.
	if got, err := tbl.ResolveCall("g", "q", "users", "get-user", "", map[string]string{"id": "1"}); err != nil || got.Path != "/q/users/1" {
		t.Errorf("project q: %+v %v", got, err)
	}
	if _, err := tbl.ResolveCall("other", "p", "users", "get-user", "", map[string]string{"id": "1"}); !errors.Is(err, compose.ErrNotRunning) {
		t.Errorf("another group: %v, want ErrNotRunning", err)
	}
}

// TestResolveCallAfterUpdate: incremental updates keep the name index
// right (a service added, renamed, removed, a route taken offline), and
// the table they started from resolves as before.
func TestResolveCallAfterUpdate(t *testing.T) {
	g := group("g", "", deployed("p", "users", "/users", route("get", "/{id}")), deployed("p", "orders", "/orders", route("list", "/")))
	snap := snapshot(g)
	base := mustBuild(t, snap)
	resolves := func(tbl *Table, service, route string) string {
		ct, err := tbl.ResolveCall("g", "p", service, route, "", map[string]string{"id": "1"})
		if err != nil {
			return "-"
		}
		return ct.Path
	}
	renamed := deployed("p", "people", "/people", route("get", "/{id}"), offline(route("gone", "/gone")))
	renamed.Service.ID = "users-id" // the same service, renamed
	added := deployed("p", "stock", "/stock", route("count", "/count"))
	d := &spec.SnapshotDelta{Base: base.Revision, Revision: base.Revision + 1, Groups: []spec.GroupDelta{{Group: g.Group,
		Services: []spec.DeployedService{renamed, added}, Removed: []string{"orders-id"}}}}
	next, err := base.Update(d, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tbl                  *Table
		service, route, want string
	}{
		{base, "users", "get", "/users/1"}, {base, "orders", "list", "/orders/"}, {base, "people", "get", "-"},
		{next, "users", "get", "-"}, {next, "people", "get", "/people/1"}, {next, "people", "gone", "-"},
		{next, "orders", "list", "-"}, {next, "stock", "count", "/stock/count"},
	} {
		if got := resolves(c.tbl, c.service, c.route); got != c.want {
			t.Errorf("revision %d: %s/%s resolves to %s, want %s", c.tbl.Revision, c.service, c.route, got, c.want)
		}
	}
	// As a build of the same services resolves.
	if err := snap.ApplyDelta(d); err != nil {
		t.Fatal(err)
	}
	built := mustBuild(t, snap)
	for _, sr := range [][2]string{{"people", "get"}, {"stock", "count"}, {"users", "get"}, {"orders", "list"}} {
		if a, b := resolves(built, sr[0], sr[1]), resolves(next, sr[0], sr[1]); a != b {
			t.Errorf("%s/%s: built %s, updated %s", sr[0], sr[1], a, b)
		}
	}
}

// servedCalls are the Calls of a table served as tbl, with handler.
func servedCalls(tbl *Table, handler http.Handler) *Calls {
	var p atomic.Pointer[Table]
	p.Store(tbl)
	return NewCalls(&p, handler)
}

func TestCompositeCallerAPI(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "/{project}",
		deployed("p", "users", "/users", withMethods(route("get-user", "/{id}"), "GET"), withMethods(route("me", "/me"), "GET")))))
	var seen *http.Request
	var depth int
	calls := servedCalls(tbl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, depth = r, callDepth(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"ok":true}`))
		w.Header().Set("X-Late", "not the answer's")
	}))
	cc := &compositeCaller{group: "g", project: "p", calls: calls}
	call := &compose.Call{Service: "users", Route: "get-user", Params: map[string]string{"id": "a b"}, Query: "x=1",
		Header:    http.Header{"X-Forwarded-For": {"10.0.0.1"}, "X-Api-Key": {"k"}, "Connection": {"close"}},
		Body:      []byte(`{"q":1}`),
		Client:    netip.MustParseAddr("203.0.113.9"),
		RequestID: "req-1", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	a, err := cc.Call(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusTeapot || string(a.Body) != `{"ok":true}` || a.Header.Get("X-Late") != "" || a.Path != "/p/users/a b" {
		t.Errorf("answer %d %q %v path %q", a.Status, a.Body, a.Header, a.Path)
	}
	if call.Method != "GET" {
		t.Errorf("the call's method left %q, want the one used (GET)", call.Method)
	}
	body, _ := io.ReadAll(seen.Body)
	for what, c := range map[string][2]string{
		"method": {seen.Method, "GET"}, "request target": {seen.RequestURI, "/p/users/a%20b?x=1"}, "path": {seen.URL.Path, "/p/users/a b"},
		"client": {seen.RemoteAddr, "203.0.113.9:0"}, "request id": {seen.Header.Get("X-Request-Id"), "req-1"},
		"traceparent": {seen.Header.Get("Traceparent"), call.TraceParent}, "key": {seen.Header.Get("X-Api-Key"), "k"},
		"forwarded for": {seen.Header.Get("X-Forwarded-For"), ""}, "connection": {seen.Header.Get("Connection"), ""},
		"body": {string(body), `{"q":1}`}, "length": {strconv.FormatInt(seen.ContentLength, 10), "7"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", what, c[0], c[1])
		}
	}
	if depth != 1 {
		t.Errorf("the call's depth %d, want 1", depth)
	}

	// A value equal to a sibling's literal reaches that sibling: refused.
	if _, err := cc.Call(context.Background(), &compose.Call{Service: "users", Route: "get-user", Params: map[string]string{"id": "me"}}); err == nil ||
		!strings.Contains(err.Error(), "reaches route me") {
		t.Errorf("a call reaching another route: %v", err)
	}
	// Nested past MaxCallDepth: refused before any dispatch.
	seen = nil
	deep := context.WithValue(context.Background(), callDepthKey{}, MaxCallDepth)
	if _, err := cc.Call(deep, &compose.Call{Service: "users", Route: "get-user", Params: map[string]string{"id": "1"}}); err == nil ||
		!strings.Contains(err.Error(), "nest") || seen != nil {
		t.Errorf("a call %d deep: %v (dispatched: %v)", MaxCallDepth+1, err, seen != nil)
	}
}

// TestCompositeCallerHTTPSOnly: an HTTPS-only API is called by an
// HTTPS-only composite only (its answers would leave over plain HTTP
// otherwise), and then as over the TLS listener.
func TestCompositeCallerHTTPSOnly(t *testing.T) {
	secure := deployed("p", "vault", "/vault", withMethods(route("get", "/{id}"), "GET"))
	secure.Service.Protocols = []string{"https"}
	httpsOnly := deployed("p", "agg-https", "/agg-https", composite(t, "agg", "/{id}",
		`{"steps":[{"name":"v","service":"vault","route":"get","params":{"id":"request.params.id"}}],"response":{"body":"steps.v.body"}}`))
	httpsOnly.Service.Protocols = []string{"https"}
	plain := deployed("p", "agg-plain", "/agg-plain", composite(t, "agg", "/{id}",
		`{"steps":[{"name":"v","service":"vault","route":"get","params":{"id":"request.params.id"}}],"response":{"body":"steps.v.body"}}`))
	tbl := mustBuild(t, snapshot(group("g", "", secure, httpsOnly, plain)))
	var seen *http.Request
	calls := servedCalls(tbl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.WriteHeader(http.StatusOK)
	}))
	for _, tc := range []struct {
		path    string
		refused bool
	}{{"/agg-plain/1", true}, {"/agg-https/1", false}} {
		rt, _, _ := lookup(tbl, "x", "GET", tc.path)
		if rt == nil {
			t.Fatalf("%s is not served", tc.path)
		}
		plainToo, _ := rt.Over(false)
		cc := &compositeCaller{group: "g", project: "p", calls: calls, plain: plainToo}
		seen = nil
		_, err := cc.Call(context.Background(), &compose.Call{Service: "vault", Route: "get", Params: map[string]string{"id": "1"}})
		switch {
		case tc.refused && (!errors.Is(err, compose.ErrRefused) || seen != nil):
			t.Errorf("%s: %v (dispatched: %v), want refused", tc.path, err, seen != nil)
		case !tc.refused && (err != nil || seen == nil || seen.TLS == nil):
			t.Errorf("%s: %v, want the call made as over TLS", tc.path, err)
		}
	}
}

func TestCompositeCallerAnswerBounds(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "", deployed("p", "users", "/users", route("big", "/big"), route("abort", "/abort"), route("silent", "/silent")))))
	calls := servedCalls(tbl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/users/big":
			chunk := make([]byte, 1<<20)
			for range compose.MaxAnswer/len(chunk) + 1 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/users/abort":
			panic(http.ErrAbortHandler)
		}
	}))
	cc := &compositeCaller{group: "g", project: "p", calls: calls}
	for route, want := range map[string]string{"big": "more than", "abort": "cut off", "silent": "no answer"} {
		if _, err := cc.Call(context.Background(), &compose.Call{Service: "users", Route: route}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", route, err, want)
		}
	}
}

func TestCompositeCallerUpstream(t *testing.T) {
	var seen *http.Request
	var seenBody []byte
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		seenBody, _ = io.ReadAll(r.Body)
		if r.URL.Path == "/base/big" {
			_, _ = w.Write(make([]byte, compose.MaxAnswer+1))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("made"))
	}))
	defer be.Close()
	ds := deployed("p", "profile", "/profile", composite(t, "agg", "/agg", `{"steps":[{"name":"a","path":"/a"}],"response":{"body":"steps.a.body"}}`))
	// A registered API: its URL's path is the base of every call.
	ds.Upstream = spec.Upstream{URL: be.URL + "/base", PassHost: "rewrite", UpstreamHost: "backend.example"}
	tbl := mustBuild(t, snapshot(group("g", "", ds)))
	rt, _, _ := lookup(tbl, "x", "GET", "/profile/agg")
	cc := &compositeCaller{group: "g", project: "p", calls: servedCalls(tbl, http.NotFoundHandler()), pool: rt.Upstream}
	defer cc.calls.Close()
	call := &compose.Call{Path: "/items/a%20b", Query: "q=1", Method: "POST", Body: []byte("{}"), Header: http.Header{"X-Api-Key": {"k"}},
		Client: netip.MustParseAddr("203.0.113.9"), RequestID: "req-1"}
	a, err := cc.Call(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusCreated || string(a.Body) != "made" || a.Path != "/base/items/a b" {
		t.Errorf("answer %d %q path %q", a.Status, a.Body, a.Path)
	}
	for what, c := range map[string][2]string{
		"method": {seen.Method, "POST"}, "target": {seen.RequestURI, "/base/items/a%20b?q=1"}, "host": {seen.Host, "backend.example"},
		"request id": {seen.Header.Get("X-Request-Id"), "req-1"}, "forwarded for": {seen.Header.Get("X-Forwarded-For"), "203.0.113.9"},
		"key": {seen.Header.Get("X-Api-Key"), "k"}, "body": {string(seenBody), "{}"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", what, c[0], c[1])
		}
	}
	if _, err := cc.Call(context.Background(), &compose.Call{Path: "/big"}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an answer past MaxAnswer: %v", err)
	}
}
