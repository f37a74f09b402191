package manifest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/golden"
	"github.com/portico-gw/portico/internal/spec"
)

func findService(t *testing.T, d *Document, name string) spec.Service {
	t.Helper()
	for _, s := range d.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %q in %+v", name, d.Services)
	return spec.Service{}
}

func plugin(t *testing.T, p spec.Plugins, name string) map[string]any {
	t.Helper()
	raw, ok := p[name]
	if !ok {
		t.Fatalf("no plugin %s in %v", name, p)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func hasNote(m *Migration, sub string) bool {
	for _, n := range m.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

func TestFromAPISIX(t *testing.T) {
	b, err := os.ReadFile("testdata/apisix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromAPISIX(b, "default")
	if err != nil {
		t.Fatal(err)
	}
	d := &m.Document
	if len(d.Upstreams) != 2 || d.Upstreams[0].Name != "shop-backend" || len(d.Upstreams[0].Nodes) != 2 || d.Upstreams[0].Timeout.Read != 10 ||
		d.Upstreams[1].LoadBalancer != "chash" || d.Upstreams[1].HashOn != "header:x-user" {
		t.Errorf("upstreams = %+v", d.Upstreams)
	}
	shop := findService(t, d, "shop")
	if shop.UpstreamID != "shop-backend" || len(shop.Routes) != 1 {
		t.Fatalf("shop = %+v", shop)
	}
	r := shop.Routes[0]
	if r.Name != "get_product" || r.Paths[0] != "/products/{id}" || r.Methods[0] != "GET" {
		t.Errorf("route = %+v", r)
	}
	if lc := plugin(t, shop.Plugins, "limit-count"); lc["key"] != "consumer" || lc["policy"] != "redis" || lc["count"] != 100.0 {
		t.Errorf("limit-count = %v", lc)
	}
	if ka := plugin(t, shop.Plugins, "key-auth"); ka["header"] != "X-API-Key" {
		t.Errorf("key-auth = %v", ka)
	}
	if ip := plugin(t, r.Plugins, "ip-restriction"); ip["allow"] == nil {
		t.Errorf("ip-restriction = %v", ip)
	}
	if c := plugin(t, r.Plugins, "cors"); len(c["allow_origins"].([]any)) != 2 {
		t.Errorf("cors = %v", c)
	}
	loose := findService(t, d, "apisix_routes")
	if loose.Upstream == nil || loose.Upstream.Nodes[0].Host != "127.0.0.9" || loose.Routes[0].Paths[1] != "/ping/*" {
		t.Errorf("routes without a service = %+v", loose)
	}
	if mk := plugin(t, loose.Routes[0].Plugins, "mock"); mk["status"] != 200.0 {
		t.Errorf("mock = %v", mk)
	}
	for _, want := range []string{"serverless-pre-function has no Portico equivalent", "answers 429, not 503", "proxy-rewrite headers"} {
		if !hasNote(&m, want) {
			t.Errorf("no note %q in %v", want, m.Notes)
		}
	}
}

func TestFromKong(t *testing.T) {
	b, err := os.ReadFile("testdata/kong.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromKong(b, "default")
	if err != nil {
		t.Fatal(err)
	}
	d := &m.Document
	// Sorted by name: carts_internal, orders_internal.
	if len(d.Upstreams) != 2 || d.Upstreams[1].LoadBalancer != "least_conn" || d.Upstreams[1].Nodes[1].Weight != 100 ||
		d.Upstreams[0].LoadBalancer != "chash" || d.Upstreams[0].HashOn != "cookie:cart" {
		t.Errorf("upstreams = %+v", d.Upstreams)
	}
	orders := findService(t, d, "orders")
	if orders.UpstreamID != "orders_internal" && orders.UpstreamID != "orders.internal" {
		t.Errorf("orders upstream = %q", orders.UpstreamID)
	}
	if lc := plugin(t, orders.Plugins, "limit-count"); lc["count"] != 20.0 || lc["time_window"] != 60.0 || lc["key"] != "consumer" {
		t.Errorf("limit-count = %v", lc)
	}
	var route spec.Route
	for _, r := range orders.Routes {
		if r.Name == "orders-route" {
			route = r
		}
	}
	if strings.Join(route.Paths, ",") != "/orders,/orders/*" {
		t.Errorf("paths = %v", route.Paths)
	}
	if pr := plugin(t, route.Plugins, "proxy-rewrite"); pr["regex_uri"].([]any)[1] != "/v2/$1" {
		t.Errorf("strip_path rewrite = %v", pr)
	}
	bin := findService(t, d, "httpbin")
	if bin.Upstream.Scheme != "https" || bin.Upstream.Nodes[0].Port != 443 {
		t.Errorf("httpbin upstream = %+v", bin.Upstream)
	}
	if sl := plugin(t, bin.Routes[0].Plugins, "request-size-limit"); sl["max_bytes"] != float64(2<<20) {
		t.Errorf("request-size-limit = %v", sl)
	}
	for _, want := range []string{"regex path", "bot-detection", "global plugin", "consumer(s)", "shortest window"} {
		if !hasNote(&m, want) {
			t.Errorf("no note %q in %v", want, m.Notes)
		}
	}
}

func FuzzFromAPISIX(f *testing.F) {
	b, _ := os.ReadFile("testdata/apisix.yaml")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = FromAPISIX(b, "p") })
}

func FuzzFromKong(f *testing.F) {
	b, _ := os.ReadFile("testdata/kong.yaml")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = FromKong(b, "p") })
}

// TestMigrationGolden pins the whole document and notes each converter
// makes of its sample file (testdata/*.golden, rewritten with -update).
func TestMigrationGolden(t *testing.T) {
	for _, c := range []struct {
		in      string
		convert func([]byte, string) (Migration, error)
	}{{"apisix.yaml", FromAPISIX}, {"kong.yaml", FromKong}} {
		b, err := os.ReadFile("testdata/" + c.in)
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.convert(b, "default")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Marshal(&m.Document)
		if err != nil {
			t.Fatal(err)
		}
		notes := "# notes:\n"
		for _, n := range m.Notes {
			notes += "# - " + n + "\n"
		}
		golden.Check(t, c.in+".golden", append([]byte(notes), doc...))
	}
}
