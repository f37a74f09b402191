package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ctl runs `portico ctl` against s with its own config file and answers
// stdout, stderr and the exit code.
func (s *server) ctl(t *testing.T, config string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"ctl", "--server", s.Admin, "--config", config}, args...)...)
	cmd.Env = append(os.Environ(), "PORTICO_PASSWORD="+s.Password, "PORTICO_TOKEN=", "PORTICO_SERVER=", "PORTICO_PROJECT=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run ctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (s *server) mustCtl(t *testing.T, config string, args ...string) string {
	t.Helper()
	out, errOut, code := s.ctl(t, config, args...)
	if code != 0 {
		t.Fatalf("ctl %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestCtlCanaryRelease drives publish and a canary release with `portico ctl`:
// login keeps a 0600 token, lists are tables, errors exit 1 with the
// server's detail, usage errors exit 2.
func TestCtlCanaryRelease(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	cfg := filepath.Join(t.TempDir(), "portico", "ctl.json")
	_, portCur := backend(t, "current")
	_, portNew := backend(t, "new")

	if out := s.mustCtl(t, cfg, "login"); !strings.Contains(out, "logged in") {
		t.Errorf("login said %q", out)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(cfg); bytes.Contains(b, []byte(s.Password)) {
		t.Error("the password was written to the config file")
	}

	s.do(t, "POST", "/api/v1/projects/default/upstreams", fmt.Sprintf(`{"name":"shop_server_new","nodes":[{"host":"127.0.0.1","port":%d}]}`, portNew), 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shop"}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/shop/routes", `{"name":"create_product","paths":["/products"]}`, 201, nil)
	s.mustCtl(t, cfg, "publish", "shop", "--group", "default", "--version", "1.0.0", "--node", fmt.Sprintf("127.0.0.1:%d", portCur))
	answersFrom(t, s.Gateway+"/products", "current", "/products")

	if out := s.mustCtl(t, cfg, "list", "services"); !strings.Contains(out, "NAME") || !strings.Contains(out, "shop") {
		t.Errorf("list services:\n%s", out)
	}
	var task struct{ ID, State string }
	out := s.mustCtl(t, cfg, "canary", "create", "shop", "--to-upstream", "shop_server_new", "--weight", "10",
		"--rule", "header:X-Canary=on", "--route", "create_product", "-o", "json")
	if err := json.Unmarshal([]byte(out), &task); err != nil || task.State != "running" {
		t.Fatalf("canary create: %s (%v)", out, err)
	}
	s.mustCtl(t, cfg, "canary", "set", "shop", task.ID, "--weight", "20")
	if out := s.mustCtl(t, cfg, "canary", "list", "shop"); !strings.Contains(out, task.ID) || !strings.Contains(out, "20") {
		t.Errorf("canary list:\n%s", out)
	}
	// A second task is refused: exit 1 and the server's detail.
	_, errOut, code := s.ctl(t, cfg, "canary", "create", "shop", "--to-upstream", "shop_server_new", "--weight", "5")
	if code != 1 || !strings.Contains(errOut, "409") || !strings.Contains(errOut, task.ID) {
		t.Errorf("second canary: exit %d, %q", code, errOut)
	}
	s.mustCtl(t, cfg, "canary", "promote", "shop", task.ID, "--version", "1.1.0")
	answersFrom(t, s.Gateway+"/products", "new", "/products")
	if out := s.mustCtl(t, cfg, "list", "history", "shop"); !strings.Contains(out, "canary.promote") || !strings.Contains(out, "1.1.0") {
		t.Errorf("history:\n%s", out)
	}
	if out := s.mustCtl(t, cfg, "get", "versions", "shop", "1.1.0"); !strings.Contains(out, "version: 1.1.0") {
		t.Errorf("get version:\n%s", out)
	}
	s.mustCtl(t, cfg, "rollback", "shop", "--group", "default", "--version", "1.0.0")

	// Validation errors list their fields.
	_, errOut, code = s.ctl(t, cfg, "publish", "shop", "--group", "default", "--version", "bad version!")
	if code != 1 || !strings.Contains(errOut, "version:") {
		t.Errorf("bad version: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{{"bogus"}, {"list"}, {"list", "nope"}, {"publish"}, {"canary", "set", "shop", task.ID}, {"lifecycle", "fly", "shop"}} {
		if _, _, code := s.ctl(t, cfg, args...); code != 2 {
			t.Errorf("ctl %v: exit %d, want 2 (usage)", args, code)
		}
	}
	// Without a login there is nothing to send.
	if _, errOut, code := s.ctl(t, filepath.Join(t.TempDir(), "none.json"), "list", "services"); code != 1 || !strings.Contains(errOut, "login") {
		t.Errorf("not logged in: exit %d, %q", code, errOut)
	}
}

// TestCtlOpenAPI is "create a service through an OpenAPI file"
// with the CLI: a dry run writes nothing, the import creates the service,
// importing again changes nothing, and the export is the description file.
func TestCtlOpenAPI(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")
	doc := "../internal/openapi/testdata/petstore-3.0.yaml"

	if out := s.mustCtl(t, cfg, "import", "openapi", doc, "--dry-run"); !strings.Contains(out, "dry_run: true") {
		t.Errorf("dry run:\n%s", out)
	}
	var none struct{ Total int }
	s.do(t, "GET", "/api/v1/projects/default/services", "", 200, &none)
	if none.Total != 0 {
		t.Fatalf("a dry run created %d services", none.Total)
	}
	var res struct {
		Service struct{ Name, Action string }
	}
	out := s.mustCtl(t, cfg, "import", "openapi", doc, "-o", "json")
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Service.Name == "" {
		t.Fatalf("import: %s (%v)", out, err)
	}
	var again struct {
		Report struct {
			Routes struct {
				Created, Changed, Removed []any
				Unchanged                 int
			}
		}
	}
	out = s.mustCtl(t, cfg, "import", "openapi", doc, "-o", "json")
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	if r := again.Report.Routes; len(r.Created)+len(r.Changed)+len(r.Removed) != 0 || r.Unchanged == 0 {
		t.Errorf("importing the same document again changed routes: %+v", r)
	}
	spec := s.mustCtl(t, cfg, "export", "openapi", res.Service.Name)
	if !strings.Contains(spec, "openapi: 3.1") || !strings.Contains(spec, "/pets") {
		t.Errorf("export:\n%.600s", spec)
	}
}
