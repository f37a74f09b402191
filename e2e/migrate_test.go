package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCtlImportAPISIXAndKong brings an APISIX standalone file and a Kong
// decK file into a project with `portico ctl import`, publishes what they
// made and calls it: APISIX's /products/:id is a parameter route, Kong's
// strip_path sends the service path plus what follows the route's prefix.
func TestCtlImportAPISIXAndKong(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")
	_, port := backend(t, "legacy")
	dir := t.TempDir()
	apisix := filepath.Join(dir, "apisix.yaml")
	kong := filepath.Join(dir, "kong.yaml")
	os.WriteFile(apisix, fmt.Appendf(nil, `upstreams:
  - id: 1
    name: shop-backend
    nodes: {"127.0.0.1:%d": 1}
services:
  - id: s1
    name: shop
    upstream_id: 1
routes:
  - id: r1
    name: get product
    uri: /products/:id
    methods: [GET]
    service_id: s1
    plugins:
      serverless-pre-function: {phase: rewrite}
#END
`, port), 0o644)
	os.WriteFile(kong, fmt.Appendf(nil, `_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:%d/v2
    routes:
      - name: orders
        paths: [/orders]
`, port), 0o644)

	out := s.mustCtl(t, cfg, "import", "apisix", apisix, "--dry-run")
	if !strings.Contains(out, "+ service shop") || !strings.Contains(out, "serverless-pre-function") {
		t.Errorf("apisix dry run:\n%s", out)
	}
	s.do(t, "GET", "/api/v1/projects/default/services/shop", "", 404, nil)
	s.mustCtl(t, cfg, "import", "apisix", apisix)
	s.mustCtl(t, cfg, "import", "kong", kong)
	s.mustCtl(t, cfg, "publish", "shop", "--version", "1.0.0")
	s.mustCtl(t, cfg, "publish", "orders", "--version", "1.0.0")
	answersFrom(t, s.Gateway+"/products/7", "legacy", "/products/7")
	answersFrom(t, s.Gateway+"/orders/42", "legacy", "/v2/42")
	if out := s.mustCtl(t, cfg, "import", "kong", kong); !strings.Contains(out, "no changes") {
		t.Errorf("importing again:\n%s", out)
	}
}
