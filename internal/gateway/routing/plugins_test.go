package routing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/iprestriction"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/gateway/plugin/requestsizelimit"
	"github.com/portico-gw/portico/internal/spec"
)

// rejects runs the route's request chain on a request from addr with a body
// of length n and reports the status it was refused with (0: passed).
func rejects(t *testing.T, rt *Route, addr string, n int64) int {
	t.Helper()
	b := plugintest.New(addr)
	b.Length = n
	ex := b.Exchange()
	for _, f := range rt.RequestFilters() {
		if f.OnRequest(ex) {
			return b.ErrorStatus
		}
	}
	return 0
}

func TestRoutePluginConfigWins(t *testing.T) {
	ds := deployed("p", "a", "",
		route("inherits", "/inherits"),
		withPlugins(route("overrides", "/overrides"), map[string]string{"request-size-limit": `{"max_bytes": 1000}`}),
		withPlugins(route("adds", "/adds"), map[string]string{"ip-restriction": `{"deny": ["10.0.0.0/8"]}`}),
	)
	ds.Service.Plugins = pluginsOf(map[string]string{"request-size-limit": `{"max_bytes": 10}`})
	tbl := mustBuild(t, snapshot(group("g", "", ds)))

	tests := []struct {
		path string
		addr string
		size int64
		want int
	}{
		{"/inherits", "192.0.2.1", 10, 0},
		{"/inherits", "192.0.2.1", 11, 413},
		{"/overrides", "192.0.2.1", 500, 0},
		{"/overrides", "192.0.2.1", 1001, 413},
		{"/adds", "192.0.2.1", 11, 413}, // the service's limit still applies
		{"/adds", "10.1.2.3", 1, 403},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s from %s with %d bytes", tc.path, tc.addr, tc.size), func(t *testing.T) {
			rt, _, _ := lookup(tbl, "", "GET", tc.path)
			if got := rejects(t, rt, tc.addr, tc.size); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNoPluginsNoFilters(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "", deployed("p", "a", "", route("r", "/r")))))
	rt, _, _ := lookup(tbl, "", "GET", "/r")
	if len(rt.RequestFilters()) != 0 || len(rt.ResponseFilters()) != 0 {
		t.Errorf("a route without plugins has %d request and %d response filters", len(rt.RequestFilters()), len(rt.ResponseFilters()))
	}
}

func TestNullPluginConfigIsEmptyObject(t *testing.T) {
	// request-size-limit needs max_bytes: null must reach the factory as {}.
	_, err := Build(snapshot(group("g", "",
		deployed("p", "a", "", withPlugins(route("r", "/r"), map[string]string{"request-size-limit": `null`})))), Deps{})
	if fe := fieldErrors(t, err); len(fe) != 1 || fe[0].Field != "services[a].routes[r].plugins.request-size-limit" {
		t.Errorf("errors = %v", fe)
	}
}

// recorder is a test plugin that notes its name when it runs.
type recorder struct {
	name string
	log  *[]string
}

func (r recorder) OnRequest(*plugin.Exchange) bool { *r.log = append(*r.log, r.name); return false }
func (r recorder) OnResponse(*plugin.Exchange)     { *r.log = append(*r.log, "resp:"+r.name) }

type requestOnly struct{ r recorder }

func (r requestOnly) OnRequest(ex *plugin.Exchange) bool { return r.r.OnRequest(ex) }

// withTestPlugins adds rows to the plugin table for one test.
func withTestPlugins(t *testing.T, rows map[string]factory) {
	t.Helper()
	for name, f := range rows {
		if _, taken := plugins[name]; taken {
			t.Fatalf("test plugin %s shadows a real one", name)
		}
		plugins[name] = f
	}
	t.Cleanup(func() {
		for name := range rows {
			delete(plugins, name)
		}
	})
}

func TestFiltersOrderedByPhase(t *testing.T) {
	var ran []string
	both := func(name string, phase plugin.Phase) factory {
		return factory{phase: phase, build: func(json.RawMessage, Deps, string) (plugin.Filters, error) {
			return plugin.FiltersOf(recorder{name, &ran})
		}}
	}
	reqOnly := func(name string, phase plugin.Phase) factory {
		return factory{phase: phase, build: func(json.RawMessage, Deps, string) (plugin.Filters, error) {
			return plugin.FiltersOf(requestOnly{recorder{name, &ran}})
		}}
	}
	// Names sort against their phases, so name order cannot pass the test.
	withTestPlugins(t, map[string]factory{
		"a-transform":  both("a-transform", plugin.PhaseTransform),
		"b-ratelimit":  reqOnly("b-ratelimit", plugin.PhaseRateLimit),
		"c-auth":       both("c-auth", plugin.PhaseAuthentication),
		"d-validation": reqOnly("d-validation", plugin.PhaseValidation),
		"e-auth":       reqOnly("e-auth", plugin.PhaseAuthentication),
		"z-ip":         reqOnly("z-ip", plugin.PhaseIPRestriction),
	})
	ds := deployed("p", "a", "", withPlugins(route("r", "/r"), map[string]string{
		"a-transform": `{}`, "b-ratelimit": `{}`, "d-validation": `{}`, "z-ip": `{}`,
	}))
	ds.Service.Plugins = pluginsOf(map[string]string{"c-auth": `{}`, "e-auth": `{}`})
	tbl := mustBuild(t, snapshot(group("g", "", ds)))
	rt, _, _ := lookup(tbl, "", "GET", "/r")
	ex := plugintest.New("192.0.2.1").Exchange()
	for _, f := range rt.RequestFilters() {
		f.OnRequest(ex)
	}
	for _, f := range rt.ResponseFilters() {
		f.OnResponse(ex)
	}
	want := []string{"z-ip", "c-auth", "e-auth", "b-ratelimit", "d-validation", "a-transform", "resp:c-auth", "resp:a-transform"}
	if diff := cmp.Diff(want, ran); diff != "" {
		t.Errorf("run order (-want +got):\n%s", diff)
	}
}

func TestFactoryErrorIsAFieldError(t *testing.T) {
	withTestPlugins(t, map[string]factory{
		"broken": {phase: plugin.PhaseTransform, build: func(json.RawMessage, Deps, string) (plugin.Filters, error) {
			return plugin.Filters{}, fmt.Errorf("bad knob")
		}},
	})
	_, err := Build(snapshot(group("g", "",
		deployed("p", "a", "", withPlugins(route("r", "/r"), map[string]string{"broken": `{}`})))), Deps{})
	fe := fieldErrors(t, err)
	want := spec.FieldErrors{{Field: "services[a].routes[r].plugins.broken", Message: "bad knob"}}
	if diff := cmp.Diff(want, fe); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPluginTableRows(t *testing.T) {
	for name, want := range map[string]struct {
		phase plugin.Phase
		cfg   string
		typ   any
	}{
		"ip-restriction":     {plugin.PhaseIPRestriction, `{"allow":["127.0.0.1"]}`, &iprestriction.Filter{}},
		"request-size-limit": {plugin.PhaseSizeLimit, `{"max_bytes":1}`, &requestsizelimit.Filter{}},
		"limit-count":        {plugin.PhaseRateLimit, `{"count":1,"time_window":60}`, &limitcount.Filter{}},
	} {
		if !Known(name) {
			t.Errorf("Known(%q) = false", name)
			continue
		}
		f := plugins[name]
		if f.phase != want.phase {
			t.Errorf("%s phase %d, want %d", name, f.phase, want.phase)
		}
		got, err := f.build(json.RawMessage(want.cfg), Deps{}, "test")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fmt.Sprintf("%T", got.Request) != fmt.Sprintf("%T", want.typ) {
			t.Errorf("%s built %T, want %T", name, got.Request, want.typ)
		}
	}
	if Known("no-such-plugin") {
		t.Error("Known(no-such-plugin) = true")
	}
}

// Counters of limit-count live in Deps, so a rebuilt table (a publish)
// keeps each client's quota instead of resetting it.
func TestLimitCountSurvivesRebuild(t *testing.T) {
	deps := Deps{Counters: limitcount.NewRegistry()}
	snap := snapshot(group("g", "",
		deployed("p", "a", "", withPlugins(route("r", "/r"), map[string]string{"limit-count": `{"count":1,"time_window":3600,"key":"route"}`}))))
	hit := func() (bool, int) {
		tbl, err := Build(snap, deps)
		if err != nil {
			t.Fatal(err)
		}
		var ps match.Params
		rt, _, ok := tbl.Lookup("", "GET", "/r", &ps)
		if !ok {
			t.Fatal("no route")
		}
		b := plugintest.New("192.0.2.1")
		ex := b.Exchange()
		for _, f := range rt.RequestFilters() {
			if f.OnRequest(ex) {
				return true, b.ErrorStatus
			}
		}
		return false, 0
	}
	if stopped, _ := hit(); stopped {
		t.Fatal("the first request was limited")
	}
	if stopped, status := hit(); !stopped || status != 429 {
		t.Errorf("the second request after a rebuild: stopped %v status %d, want 429 (counter kept)", stopped, status)
	}
}

// TestEveryPluginBuildsAFilter: each plugin the gateway knows compiles its
// empty (or smallest) configuration into at least one filter, and a value
// that is no filter is refused rather than dropped.
func TestEveryPluginBuildsAFilter(t *testing.T) {
	if _, err := plugin.FiltersOf(struct{}{}); err == nil {
		t.Error("FiltersOf accepted a value that is neither kind of filter")
	}
	minimal := map[string]string{
		"limit-count": `{"count":1,"time_window":1}`, "limit-req": `{"rate":1,"burst":1}`,
		"request-size-limit": `{"max_bytes":1}`, "proxy-rewrite": `{"uri":"/x"}`,
		"ip-restriction": `{"allow":["127.0.0.1"]}`, "request-transformer": `{"headers":{"set":{"X-A":"1"}}}`,
		"response-transformer": `{"headers":{"set":{"X-A":"1"}}}`,
	}
	for name, f := range plugins {
		raw := minimal[name]
		if raw == "" {
			raw = `{}`
		}
		fs, err := f.build(json.RawMessage(raw), Deps{}, "test")
		if err != nil {
			t.Errorf("%s %s: %v", name, raw, err)
			continue
		}
		if fs.Request == nil && fs.Response == nil {
			t.Errorf("%s compiled to no filter", name)
		}
	}
}

// Every plugin names the type its configuration is decoded into, which
// the admin API checks member names against exactly — but access-log,
// whose parser matches member names exactly itself.
func TestEveryPluginNamesItsConfigType(t *testing.T) {
	for name := range plugins {
		if name == accessLogName {
			if _, err := accessLogPlugin([]byte(`{"DISABLE": true}`), Deps{}, "test"); err == nil {
				t.Errorf("access-log took a member name spelt in another case")
			}
			continue
		}
		typ, ok := ConfigType(name)
		if !ok || typ == nil || typ.Kind() != reflect.Struct {
			t.Errorf("plugin %s: config type %v", name, typ)
		}
	}
	for _, name := range []string{spec.StreamIPRestriction, spec.StreamLimitConn} {
		if typ, ok := StreamConfigType(name); !ok || typ.Kind() != reflect.Struct {
			t.Errorf("stream plugin %s: config type %v", name, typ)
		}
	}
}
