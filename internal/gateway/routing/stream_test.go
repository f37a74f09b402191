package routing

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// streamService is a stream service of the given routes.
func streamService(name string, routes ...spec.StreamRoute) spec.DeployedService {
	return spec.DeployedService{
		ProjectID: "p", Version: "1",
		Service:  spec.Service{ID: name + "-id", Name: name, Type: spec.ServiceStream, StreamRoutes: routes},
		Upstream: spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 6379, Weight: 1}}},
	}
}

func streamRoute(name, listener, mode string, sni ...string) spec.StreamRoute {
	return spec.StreamRoute{Name: name, Listener: listener, TLS: mode, SNI: sni}
}

func TestStreamLookup(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "",
		streamService("a", streamRoute("exact", "tls", "passthrough", "a.test", "x.w.test")),
		streamService("b", streamRoute("wild", "tls", "terminate", "*.w.test")),
		streamService("c", streamRoute("def", "tls", "passthrough"), streamRoute("redis", "redis", "")),
		deployed("p", "http", "/h", route("r", "/x")),
	)))
	for _, tc := range []struct{ listener, sni, want string }{
		{"tls", "a.test", "exact"},
		{"tls", "A.TEST.", "exact"},
		{"tls", "x.w.test", "exact"},
		{"tls", "y.w.test", "wild"},
		{"tls", "z.y.w.test", "def"}, // a wildcard covers one label
		{"tls", "w.test", "def"},
		{"tls", "", "def"},
		{"redis", "", "redis"},
		{"redis", "a.test", "redis"},
		{"none", "", ""},
	} {
		got := ""
		if r := tbl.Stream(tc.listener, tc.sni); r != nil {
			got = r.Name
		}
		if got != tc.want {
			t.Errorf("Stream(%q, %q) = %q, want %q", tc.listener, tc.sni, got, tc.want)
		}
	}
	if !tbl.StreamReadsHello("tls") || tbl.StreamReadsHello("redis") {
		t.Error("a listener reads a hello when, and only when, a route there wants TLS")
	}
	if got := tbl.StreamListeners(); !slices.Equal(got, []string{"redis", "tls"}) {
		t.Errorf("listeners %q", got)
	}
	if tbl.Len() != 1 {
		t.Errorf("%d HTTP routes, want the HTTP service's 1: stream routes are not in the matcher", tbl.Len())
	}
	if r := tbl.Stream("redis", ""); r.Idle != DefaultStreamIdle || r.Upstream.Scheme != "tcp" {
		t.Errorf("defaults: idle %v, scheme %q", r.Idle, r.Upstream.Scheme)
	}
}

func TestStreamCompileErrors(t *testing.T) {
	canary := streamService("c", streamRoute("r", "l", ""))
	canary.Canary = &spec.CanaryRoute{ID: "k", Weight: 10, Target: spec.Upstream{Nodes: []spec.Node{{Host: "b", Port: 1, Weight: 1}}}}
	httpOverTCP := deployed("p", "h", "/h", route("r", "/x"))
	httpOverTCP.Upstream.Scheme = "tcp"
	streamOverHTTP := streamService("s", streamRoute("r", "l2", ""))
	streamOverHTTP.Upstream.Scheme = "https"
	for _, tc := range []struct {
		name  string
		ds    spec.DeployedService
		field string
	}{
		{"canary", canary, "services[c].canary"},
		{"HTTP service over tcp", httpOverTCP, "services[h].upstream.scheme"},
		{"stream service over https", streamOverHTTP, "services[s].upstream.scheme"},
		{"two defaults in a service", streamService("d", streamRoute("a", "l", ""), streamRoute("b", "l", "passthrough")),
			"services[d].stream_routes[b]"},
		{"one name twice in a service", streamService("n", streamRoute("a", "l", "passthrough", "x.test"),
			streamRoute("b", "l", "terminate", "x.test")), "services[n].stream_routes[b]"},
		{"trusted proxies", func() spec.DeployedService {
			ds := streamService("t", streamRoute("a", "l", ""))
			ds.Service.StreamRoutes[0].Plugins = pluginsOf(map[string]string{"ip-restriction": `{"allow":["10.0.0.0/8"],"trusted_proxies":["10.0.0.1"]}`})
			return ds
		}(), "services[t].stream_routes[a].plugins.ip-restriction.trusted_proxies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(snapshot(group("g", "", tc.ds)), Deps{})
			fe, ok := errors.AsType[spec.FieldErrors](err)
			if !ok || !slices.ContainsFunc(fe, func(e spec.FieldError) bool { return e.Field == tc.field }) {
				t.Fatalf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestStreamPlugins(t *testing.T) {
	ds := streamService("s", streamRoute("r", "l", ""))
	ds.Service.StreamRoutes[0].Plugins = pluginsOf(map[string]string{
		"ip-restriction": `{"deny":["10.1.0.0/16"]}`, "limit-conn": `{"conn":2}`})
	ds.Upstream.Timeout = &spec.Timeout{Read: 1.5}
	conns := &StreamConns{}
	build := func() *StreamRoute {
		tbl, err := Build(snapshot(group("g", "", ds)), Deps{StreamConns: conns})
		if err != nil {
			t.Fatal(err)
		}
		return tbl.Stream("l", "")
	}
	r := build()
	if r.Allowed(netip.MustParseAddr("10.1.2.3")) || !r.Allowed(netip.MustParseAddr("10.2.0.1")) {
		t.Error("ip-restriction's deny list")
	}
	if r.Idle != 1500*time.Millisecond {
		t.Errorf("idle %v: the upstream's timeout.read", r.Idle)
	}
	if !r.Acquire() || !r.Acquire() {
		t.Fatal("two connections under conn 2")
	}
	// A reload keeps the count: the third is refused by the new table.
	if build().Acquire() {
		t.Fatal("a third connection after a reload")
	}
	r.Release()
	if !build().Acquire() {
		t.Fatal("a slot freed takes the next connection")
	}
	if err := CheckStreamPlugins("plugins", pluginsOf(map[string]string{"limit-conn": `{"conn":1,"burst":3}`})); err == nil ||
		!strings.Contains(err.Error(), "plugins.limit-conn") {
		t.Errorf("an unknown field of limit-conn: %v", err)
	}
}

// A delta that adds, changes and removes stream services rebuilds the
// listener index; one touching only HTTP services shares it.
func TestStreamUpdate(t *testing.T) {
	base := mustBuild(t, snapshot(group("g", "", streamService("a", streamRoute("a", "l", "")),
		deployed("p", "h", "/h", route("r", "/x")))))
	httpOnly, err := base.Update(&spec.SnapshotDelta{Base: base.Revision, Revision: base.Revision + 1, Groups: []spec.GroupDelta{{
		Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{deployed("p", "h", "/h", route("r", "/y"))}}}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if httpOnly.Stream("l", "") != base.Stream("l", "") {
		t.Error("an HTTP change recompiled the stream routes")
	}
	moved, err := httpOnly.Update(&spec.SnapshotDelta{Base: httpOnly.Revision, Revision: httpOnly.Revision + 1, Groups: []spec.GroupDelta{{
		Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{streamService("b", streamRoute("b", "m", ""))},
		Removed: []string{"a-id"}}}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Stream("l", "") != nil || moved.Stream("m", "") == nil || moved.Stream("m", "").Name != "b" {
		t.Errorf("after the delta: l %v, m %v", moved.Stream("l", ""), moved.Stream("m", ""))
	}
	if base.Stream("l", "") == nil {
		t.Error("the table the delta started from changed")
	}
}
