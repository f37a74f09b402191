package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestCtlDeclarative: dump a project, edit the YAML, diff (exit 3), sync,
// diff again (exit 0); the dump is stable and round-trips; prune removes
// what the file does not name but never a running service.
func TestCtlDeclarative(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")
	_, port := backend(t, "A")
	s.do(t, "POST", "/api/v1/projects/default/upstreams", fmt.Sprintf(`{"name":"shop_server","nodes":[{"host":"127.0.0.1","port":%d}]}`, port), 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shop","upstream_id":"shop_server","routes":[{"name":"create_product","paths":["/products"],"methods":["POST"]}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"old","routes":[{"name":"r","paths":["/old"]}]}`, 201, nil)

	var app struct{ ID string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"shop-app","project":"default","services":["shop"]}`, 201, &app)
	var cred struct{ Key string }
	s.do(t, "POST", "/api/v1/applications/"+app.ID+"/credentials", `{"type":"key-auth"}`, 201, &cred)

	dump := s.mustCtl(t, cfg, "dump")
	if !strings.Contains(dump, "name: shop-app") || cred.Key == "" || strings.Contains(dump, cred.Key) {
		t.Errorf("the dump should list the application by name and never its key:\n%s", dump)
	}
	if again := s.mustCtl(t, cfg, "dump"); again != dump {
		t.Fatalf("two dumps differ:\n%s\n---\n%s", dump, again)
	}
	if volatile := regexp.MustCompile(`(?m)^[\s-]*(id|created_at|updated_at|state|service_id|project_id):`).FindString(dump); volatile != "" {
		t.Errorf("the dump carries volatile %q:\n%s", volatile, dump)
	}
	if !strings.Contains(dump, "upstream_id: shop_server") {
		t.Errorf("services should name their upstream:\n%s", dump)
	}
	file := filepath.Join(t.TempDir(), "default.yaml")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dump)
	if out, _, code := s.ctl(t, cfg, "diff", file); code != 0 || !strings.Contains(out, "no changes") {
		t.Fatalf("diff of the dump itself: exit %d %q", code, out)
	}

	// Add a route, change a path.
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(dump), &doc); err != nil {
		t.Fatal(err)
	}
	for _, svc := range doc["services"].([]any) {
		svc := svc.(map[string]any)
		if svc["name"] != "shop" {
			continue
		}
		routes := svc["routes"].([]any)
		routes[0].(map[string]any)["paths"] = []any{"/products/new"}
		svc["routes"] = append(routes, map[string]any{"name": "list_products", "paths": []any{"/products"}, "methods": []any{"GET"}})
	}
	doc["applications"] = append(doc["applications"].([]any), map[string]any{"name": "partner-app", "services": []any{"shop"}})
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	edited := string(b)
	write(edited)
	out, _, code := s.ctl(t, cfg, "diff", file)
	if code != 3 || !strings.Contains(out, "+ route") || !strings.Contains(out, "~ route shop/create_product (paths)") {
		t.Fatalf("diff: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "+ application partner-app") {
		t.Errorf("diff lacks the new application:\n%s", out)
	}
	s.mustCtl(t, cfg, "sync", file)
	if out, _, code := s.ctl(t, cfg, "diff", file); code != 0 {
		t.Errorf("diff after sync: exit %d\n%s", code, out)
	}
	var apps struct{ Total int }
	s.do(t, "GET", "/api/v1/applications?project=default", "", 200, &apps)
	if apps.Total != 2 {
		t.Errorf("%d applications after sync, want 2", apps.Total)
	}

	// Prune: the file does not name "old".
	var kept []any
	for _, svc := range doc["services"].([]any) {
		if svc.(map[string]any)["name"] != "old" {
			kept = append(kept, svc)
		}
	}
	doc["services"] = kept
	b, err = yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	write(string(b))
	if out, _, _ := s.ctl(t, cfg, "diff", "--prune", file); !strings.Contains(out, "- service old") {
		t.Fatalf("prune diff does not remove old:\n%s", out)
	}
	// A running service is never pruned: the whole sync is refused.
	s.do(t, "POST", "/api/v1/projects/default/services/old/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	if _, errOut, code := s.ctl(t, cfg, "sync", "--prune", file); code != 1 || !strings.Contains(errOut, "runs") {
		t.Errorf("pruning a running service: exit %d %q", code, errOut)
	}
	s.do(t, "GET", "/api/v1/projects/default/services/old", "", 200, nil)
	// Unknown fields are refused with their name.
	write("project: default\nservices:\n- name: x\n  colour: red\n")
	if _, errOut, code := s.ctl(t, cfg, "sync", file); code != 1 || !strings.Contains(errOut, "colour") {
		t.Errorf("unknown field: exit %d %q", code, errOut)
	}
}
