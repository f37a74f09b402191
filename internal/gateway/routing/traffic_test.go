package routing

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin/cors"
	"github.com/portico-gw/portico/internal/gateway/plugin/iprestriction"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitreq"
	"github.com/portico-gw/portico/internal/gateway/plugin/mock"
	"github.com/portico-gw/portico/internal/gateway/plugin/proxyrewrite"
	"github.com/portico-gw/portico/internal/gateway/plugin/requesttransformer"
	"github.com/portico-gw/portico/internal/gateway/plugin/responsetransformer"
)

// TestTrafficPluginOrder: the traffic plugins of one route run in
// the documented plugin order — IP restriction, CORS (before authentication: a
// preflight has no credentials), rate limits, transformation, the mock
// backend last — and response-transformer on the answer.
func TestTrafficPluginOrder(t *testing.T) {
	snap := snapshot(group("g", "", deployed("p", "s", "",
		withPlugins(route("r", "/r"), map[string]string{
			"mock":                 `{"status": 200}`,
			"request-transformer":  `{"query": {"rename": {"a": "b"}}}`,
			"proxy-rewrite":        `{"uri": "/x"}`,
			"limit-req":            `{"rate": 5, "burst": 1}`,
			"limit-count":          `{"count": 5, "time_window": 60}`,
			"cors":                 `{}`,
			"ip-restriction":       `{"deny": ["192.0.2.1"]}`,
			"response-transformer": `{"headers": {"remove": ["Server"]}}`,
		}))))
	tbl := mustBuild(t, snap)
	var ps match.Params
	rt, _, ok := tbl.Lookup("", "GET", "/r", &ps)
	if !ok {
		t.Fatal("no route")
	}
	var got []string
	for _, f := range rt.RequestFilters() {
		got = append(got, fmt.Sprintf("%T", f))
	}
	want := []string{
		fmt.Sprintf("%T", &iprestriction.Filter{}), fmt.Sprintf("%T", &cors.Filter{}),
		fmt.Sprintf("%T", &limitcount.Filter{}), fmt.Sprintf("%T", &limitreq.Filter{}),
		fmt.Sprintf("%T", &proxyrewrite.Filter{}), fmt.Sprintf("%T", &requesttransformer.Filter{}),
		fmt.Sprintf("%T", &mock.Filter{}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request filters (-want +got):\n%s", diff)
	}
	var resp []string
	for _, f := range rt.ResponseFilters() {
		resp = append(resp, fmt.Sprintf("%T", f))
	}
	wantResp := []string{fmt.Sprintf("%T", &cors.Filter{}), fmt.Sprintf("%T", &responsetransformer.Filter{})}
	if diff := cmp.Diff(wantResp, resp); diff != "" {
		t.Errorf("response filters (-want +got):\n%s", diff)
	}
}

func TestCheckPlugins(t *testing.T) {
	err := CheckPlugins("routes[0].plugins", pluginsOf(map[string]string{
		"mock": `{"status": 99}`, "cors": `{}`, "nope": `{}`, "limit-req": `{"rate": 1, "extra": 1}`}))
	got := fields(fieldErrors(t, err))
	want := []string{"routes[0].plugins.limit-req", "routes[0].plugins.mock", "routes[0].plugins.nope"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if err := CheckPlugins("plugins", pluginsOf(map[string]string{"limit-count": `{"count": 1, "time_window": 1, "policy": "redis"}`})); err != nil {
		t.Errorf("a valid config refused: %v", err)
	}
}
