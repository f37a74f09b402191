package adminapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/routing"
)

// TestPluginCatalogue: every plugin the gateway knows is listed, in chain
// order, each with an object schema whose properties are the members the
// strict check accepts.
func TestPluginCatalogue(t *testing.T) {
	a := newTestAPI(t)
	r := a.do("GET", "/plugins", nil)
	if r.status != 200 {
		t.Fatalf("GET /plugins: %d %s", r.status, r.body)
	}
	var got struct {
		Items []pluginEntry `json:"items"`
		Total int           `json:"total"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Total != len(routing.Catalogue()) || got.Total != len(got.Items) {
		t.Fatalf("total %d, items %d, catalogue %d", got.Total, len(got.Items), len(routing.Catalogue()))
	}
	if !slices.IsSortedFunc(got.Items, func(a, b pluginEntry) int {
		if a.Order == 0 || b.Order == 0 { // stream-only plugins come last
			return 0
		}
		return a.Order - b.Order
	}) {
		t.Error("plugins are not in chain order")
	}
	for _, p := range got.Items {
		if p.Schema["type"] != "object" {
			t.Errorf("%s: schema %v, want an object", p.Name, p.Schema)
		}
		if p.Routes && p.Phase == "" {
			t.Errorf("%s: an HTTP plugin without a phase", p.Name)
		}
	}
	key := got.Items[slices.IndexFunc(got.Items, func(p pluginEntry) bool { return p.Name == "key-auth" })]
	props, _ := key.Schema["properties"].(map[string]any)
	if key.Phase != "authentication" || props == nil {
		t.Fatalf("key-auth: %+v", key)
	}
	// An enum tag of a configuration becomes the member's enum.
	lc := got.Items[slices.IndexFunc(got.Items, func(p pluginEntry) bool { return p.Name == "limit-count" })]
	policy, _ := lc.Schema["properties"].(map[string]any)["policy"].(map[string]any)
	if enum, _ := policy["enum"].([]any); len(enum) != 2 || enum[0] != "local" || enum[1] != "redis" {
		t.Errorf("limit-count policy: %v, want enum [local redis]", policy)
	}
	if r := a.do("GET", "/plugins?page=1", nil); r.status != 400 {
		t.Errorf("unknown query parameter: %d", r.status)
	}
}
