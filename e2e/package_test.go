package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPackageBetweenServers publishes a project to another project between two
// installs that cannot see each other: export a package from one, import
// it into the other with an upstream mapping. An incomplete mapping
// refuses the whole import and lists every unmapped upstream; with a
// complete one the services arrive as drafts that submit and answer.
func TestPackageBetweenServers(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	src := startServer(t, t.TempDir())
	dst := startServer(t, t.TempDir())
	_, portA := backend(t, "test-env")
	_, portB := backend(t, "prod-env")
	srcCfg := filepath.Join(t.TempDir(), "src.json")
	dstCfg := filepath.Join(t.TempDir(), "dst.json")
	src.mustCtl(t, srcCfg, "login")
	dst.mustCtl(t, dstCfg, "login")

	up := func(s *server, name string, port int) {
		s.do(t, "POST", "/api/v1/projects/default/upstreams", fmt.Sprintf(`{"name":%q,"nodes":[{"host":"127.0.0.1","port":%d}]}`, name, port), 201, nil)
	}
	up(src, "users_db_api", portA)
	up(src, "orders_api", portA)
	src.do(t, "POST", "/api/v1/projects/default/folders", `{"name":"Users","path":"/users"}`, 201, nil)
	var folder struct{ ID string }
	dst.do(t, "POST", "/api/v1/projects/default/folders", `{"name":"Users","path":"/users"}`, 201, &folder)
	var srcFolder struct {
		Items []struct{ ID string }
	}
	src.do(t, "GET", "/api/v1/projects/default/folders", "", 200, &srcFolder)
	src.do(t, "POST", "/api/v1/projects/default/services", fmt.Sprintf(`{"name":"user_info","path":"default","folder_id":%q,"upstream_id":"users_db_api",
		"routes":[{"name":"get_user","paths":["/info"],"methods":["GET"]}]}`, srcFolder.Items[0].ID), 201, nil)
	src.do(t, "POST", "/api/v1/projects/default/services", `{"name":"orders","upstream_id":"orders_api","routes":[{"name":"list_orders","paths":["/orders"]}]}`, 201, nil)
	src.do(t, "POST", "/api/v1/projects/default/services/user_info/actions/submit", "", 200, nil)

	pkg := filepath.Join(t.TempDir(), "default.portico.zip")
	src.mustCtl(t, srcCfg, "export", "package", "-f", pkg)

	// Incomplete mapping: nothing happens, every unmapped upstream named.
	up(dst, "prod_users", portB)
	_, errOut, code := dst.ctl(t, dstCfg, "import", "package", pkg, "--upstream", "users_db_api:prod_users")
	if code != 1 || !strings.Contains(errOut, "mapping.upstreams.orders_api") {
		t.Fatalf("incomplete mapping: exit %d %q", code, errOut)
	}
	_, errOut, code = dst.ctl(t, dstCfg, "import", "package", pkg, "--upstream", "users_db_api:nope", "--upstream", "orders_api:prod_users")
	if code != 1 || !strings.Contains(errOut, `no upstream "nope"`) {
		t.Fatalf("mapping to a missing upstream: exit %d %q", code, errOut)
	}
	var none struct{ Total int }
	dst.do(t, "GET", "/api/v1/projects/default/services", "", 200, &none)
	if none.Total != 0 {
		t.Fatalf("a refused import left %d services", none.Total)
	}

	out := dst.mustCtl(t, dstCfg, "import", "package", pkg, "--upstream", "users_db_api:prod_users", "--upstream", "orders_api:prod_users")
	if !strings.Contains(out, "+ service user_info") || !strings.Contains(out, "+ route orders/list_orders") {
		t.Errorf("import said:\n%s", out)
	}
	var svc struct {
		State    string
		FolderID string `json:"folder_id"`
	}
	dst.do(t, "GET", "/api/v1/projects/default/services/user_info", "", 200, &svc)
	if svc.State != "draft" || svc.FolderID != folder.ID {
		t.Errorf("imported service: state %q folder %q, want draft in folder %s", svc.State, svc.FolderID, folder.ID)
	}
	dst.do(t, "POST", "/api/v1/projects/default/services/user_info/actions/submit", "", 200, nil)
	answersFrom(t, dst.Gateway+"/users/info", "prod-env", "/users/info")

	// Importing again changes nothing.
	if out := dst.mustCtl(t, dstCfg, "import", "package", pkg, "--upstream", "users_db_api:prod_users", "--upstream", "orders_api:prod_users"); !strings.Contains(out, "no changes") {
		t.Errorf("re-import:\n%s", out)
	}
}

// TestPackageDataSources is "a data source has no target data source": a
// package whose generated data API reads a data source is refused until
// that data source is mapped to one of the target project's, then answers
// from the target's database.
func TestPackageDataSources(t *testing.T) {
	srcDB, dstDB := dataDB(t, "postgres"), dataDB(t, "postgres")
	src := startServer(t, t.TempDir())
	dst := startServer(t, t.TempDir())
	srcCfg := filepath.Join(t.TempDir(), "src.json")
	dstCfg := filepath.Join(t.TempDir(), "dst.json")
	src.mustCtl(t, srcCfg, "login")
	dst.mustCtl(t, dstCfg, "login")
	ds := func(s *server, name, db string) {
		s.do(t, "POST", "/api/v1/projects/default/data-sources", fmt.Sprintf(`{"name":%q,"type":"postgres","host":"127.0.0.1","database":%q,"user":"postgres"}`, name, db), 201, nil)
	}
	ds(src, "crm_test", srcDB)
	src.do(t, "POST", "/api/v1/projects/default/services", `{"name":"user","path":"/user"}`, 201, nil)
	src.do(t, "POST", "/api/v1/projects/default/services/user/routes", `{"name":"user_info","methods":["GET"],
		"backend":{"type":"sql","data_source":"crm_test","table":"users","columns":["id","name"],"filters":[{"param":"name","op":"="}]}}`, 201, nil)
	pkg := filepath.Join(t.TempDir(), "default.zip")
	src.mustCtl(t, srcCfg, "export", "package", "-f", pkg)

	_, errOut, code := dst.ctl(t, dstCfg, "import", "package", pkg)
	if code != 1 || !strings.Contains(errOut, "mapping.data_sources.crm_test") {
		t.Fatalf("unmapped data source: exit %d %q", code, errOut)
	}
	ds(dst, "crm_prod", dstDB)
	dst.mustCtl(t, dstCfg, "import", "package", pkg, "--data-source", "crm_test:crm_prod")
	dst.do(t, "POST", "/api/v1/projects/default/services/user/actions/submit", "", 200, nil)
	waitFor(t, dst.Gateway+"/user/user_info?name=bob", 5*time.Second, func(st int, b []byte) bool {
		return st == 200 && strings.Contains(string(b), `"bob"`)
	})
}

// TestPackageRecordedAndRetried publishes a named package from one project
// to another: an import whose mapping leaves an upstream out is refused,
// and the target project lists the package failed with the reason; a
// retry with the whole mapping publishes it, and its service runs in the
// target project.
func TestPackageRecordedAndRetried(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	_, portA := backend(t, "dev-env")
	_, portB := backend(t, "shop-env")
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")

	s.do(t, "POST", "/api/v1/projects/default/upstreams", fmt.Sprintf(`{"name":"users_db_api","nodes":[{"host":"127.0.0.1","port":%d}]}`, portA), 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/upstreams", fmt.Sprintf(`{"name":"orders_api","nodes":[{"host":"127.0.0.1","port":%d}]}`, portA), 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"user_info","path":"/users","upstream_id":"users_db_api",
		"routes":[{"name":"get_user","paths":["/info"],"methods":["GET"]}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"orders","path":"/orders","upstream_id":"orders_api","routes":[{"name":"list_orders","paths":["/list"]}]}`, 201, nil)
	pkg := filepath.Join(t.TempDir(), "users.zip")
	s.mustCtl(t, cfg, "export", "package", "-f", pkg, "--name", "users-api", "--description", "Users and orders, for the shop")

	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","name":"Shop"}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/shop/upstreams", fmt.Sprintf(`{"name":"prod_users","nodes":[{"host":"127.0.0.1","port":%d}]}`, portB), 201, nil)
	_, errOut, code := s.ctl(t, cfg, "-p", "shop", "import", "package", pkg, "--upstream", "users_db_api:prod_users")
	if code != 1 || !strings.Contains(errOut, "mapping.upstreams.orders_api") || !strings.Contains(errOut, "ctl packages retry") {
		t.Fatalf("incomplete mapping: exit %d %q", code, errOut)
	}
	var list struct {
		Items []struct {
			ID, Name, Description, State, Reason string
			Source                               string `json:"source_project"`
			Unmapped                             struct{ Upstreams []string }
			Services                             []string `json:"services"`
		}
		Total int
	}
	s.do(t, "GET", "/api/v1/projects/shop/packages", "", 200, &list)
	if list.Total != 1 {
		t.Fatalf("packages of shop: %+v", list)
	}
	p := list.Items[0]
	if p.Name != "users-api" || p.Description != "Users and orders, for the shop" || p.State != "failed" || p.Source != "default" ||
		!strings.Contains(p.Reason, "orders_api") || len(p.Unmapped.Upstreams) != 1 || p.Unmapped.Upstreams[0] != "orders_api" {
		t.Errorf("the refused package: %+v", p)
	}
	if out := s.mustCtl(t, cfg, "-p", "shop", "packages", "list"); !strings.Contains(out, p.ID) || !strings.Contains(out, "failed") || !strings.Contains(out, "mapping.upstreams.orders_api") {
		t.Errorf("packages list:\n%s", out)
	}
	var none struct{ Total int }
	s.do(t, "GET", "/api/v1/projects/shop/services", "", 200, &none)
	if none.Total != 0 {
		t.Fatalf("a refused import left %d services", none.Total)
	}

	out := s.mustCtl(t, cfg, "-p", "shop", "packages", "retry", p.ID, "--upstream", "users_db_api:prod_users", "--upstream", "orders_api:prod_users")
	if !strings.Contains(out, "is published") || !strings.Contains(out, "+ service user_info") {
		t.Errorf("retry said:\n%s", out)
	}
	if out := s.mustCtl(t, cfg, "-p", "shop", "packages", "list", "--state", "published"); !strings.Contains(out, p.ID) {
		t.Errorf("published packages:\n%s", out)
	}
	var svc struct{ State string }
	s.do(t, "GET", "/api/v1/projects/shop/services/user_info", "", 200, &svc)
	if svc.State != "draft" {
		t.Errorf("imported service in state %q, want draft", svc.State)
	}
	s.do(t, "POST", "/api/v1/projects/shop/services/user_info/actions/submit", "", 200, nil)
	answersFrom(t, s.Gateway+"/users/info", "shop-env", "/users/info")
}
