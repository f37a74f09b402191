package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPackagesCommands: packages list shows each package's state and
// reason; retry sends the mapping of its flags (none: no body, the last
// attempt's) and prints what the package changed; a malformed pair is a
// usage error; export package sends the name and description.
func TestPackagesCommands(t *testing.T) {
	clearEnv(t)
	api := newFakeAPI(t, map[string]string{
		"GET /projects/shop/packages": `{"items":[{"id":"k2","name":"users","state":"failed","source_project":"dev","services":["user_info"],
			"reason":"the request is invalid: mapping.upstreams.orders_api: not mapped","updated_by":"ada"},
			{"id":"k1","name":"catalog","state":"published","source_project":"dev","updated_by":"ada"}],"total":2}`,
		"POST /projects/shop/packages/k2/retry": `{"id":"k2","name":"users","state":"published","result":{"changes":[],"diff":"+ service user_info\n"}}`,
		"POST /projects/shop/export":            `PK`,
	})
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	t.Setenv("PORTICO_TOKEN", "pat_x")
	srv := []string{"--server", api.srv.URL, "-p", "shop"}
	ctl := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, cfg, "", append(srv, args...)...)
		if code != 0 {
			t.Fatalf("ctl %v: exit %d %s", args, code, errOut)
		}
		return out
	}
	out := ctl("packages", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[0], "STATE") ||
		!strings.Contains(lines[1], "failed") || !strings.Contains(lines[1], "mapping.upstreams.orders_api") || !strings.Contains(lines[2], "published") {
		t.Errorf("packages list:\n%s", out)
	}
	ctl("packages", "list", "--state", "failed")
	if c := api.last(t, "GET /projects/shop/packages"); !strings.Contains(c.Query, "state=failed") {
		t.Errorf("--state sent %q", c.Query)
	}

	out = ctl("packages", "retry", "k2", "--upstream", "users_db:prod", "--upstream", "orders_api:prod")
	c := api.last(t, "POST /projects/shop/packages/k2/retry")
	ups, _ := c.Body["upstreams"].(map[string]any)
	if len(ups) != 2 || ups["users_db"] != "prod" || ups["orders_api"] != "prod" {
		t.Errorf("retry sent %+v", c.Body)
	}
	if !strings.Contains(out, "package k2 (users) is published") || !strings.Contains(out, "+ service user_info") {
		t.Errorf("retry said:\n%s", out)
	}
	ctl("packages", "retry", "k2")
	if c := api.last(t, "POST /projects/shop/packages/k2/retry"); c.Body != nil {
		t.Errorf("retry without a mapping sent %+v", c.Body)
	}
	if _, _, code := run(t, cfg, "", append(srv, "packages", "retry", "k2", "--upstream", "nocolon")...); code != ExitUsage {
		t.Errorf("a malformed --upstream: exit %d", code)
	}

	ctl("export", "package", "-f", filepath.Join(t.TempDir(), "p.zip"), "--name", "users.v2", "--description", "Users")
	if c := api.last(t, "POST /projects/shop/export"); c.Body["name"] != "users.v2" || c.Body["description"] != "Users" {
		t.Errorf("export sent %+v", c.Body)
	}
}
