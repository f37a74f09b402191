package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestEditFromVersionAndDiff: publish 1.0.0, edit the template and
// publish 1.0.1, copy 1.0.0 back into the template, edit one field and
// publish 1.1.0: the diff of 1.0.0 and 1.1.0 is exactly that edit, over
// the admin API and in `portico ctl diff-version`, and the gateway serves
// it. A sync's dry run shows what the target group would run and runs
// nothing.
func TestEditFromVersionAndDiff(t *testing.T) {
	t.Parallel() // its own server
	s := startServer(t, t.TempDir(), "--group", "default", "--group", "production")
	_, port := backend(t, "A")
	svc := "/api/v1/projects/default/services/petstore"

	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"petstore","protocols":["http"]}`, 201, nil)
	s.do(t, "POST", svc+"/routes", `{"name":"list","paths":["/pets"],"methods":["GET"],"backend":{"path":"/v1/pets"}}`, 201, nil)
	s.do(t, "POST", svc+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(port)), 201, nil)

	s.do(t, "PATCH", svc+"/routes/list", `{"backend":{"path":"/v2/pets"}}`, 200, nil)
	s.do(t, "POST", svc+"/routes", `{"name":"create","paths":["/pets"],"methods":["POST"]}`, 201, nil)
	s.do(t, "POST", svc+"/publish", `{"group":"default","version":"1.0.1"}`, 201, nil)
	answersFrom(t, s.Gateway+"/pets", "A", "/v2/pets")

	var restored struct {
		Routes []struct{ Name string }
	}
	s.do(t, "POST", svc+"/versions/1.0.0/restore", "", 200, &restored)
	if len(restored.Routes) != 1 || restored.Routes[0].Name != "list" {
		t.Fatalf("the template after the restore of 1.0.0 = %+v, want route list alone", restored)
	}
	s.do(t, "PATCH", svc+"/routes/list", `{"backend":{"path":"/v3/pets"}}`, 200, nil)
	s.do(t, "POST", svc+"/publish", `{"group":"default","version":"1.1.0"}`, 201, nil)
	answersFrom(t, s.Gateway+"/pets", "A", "/v3/pets")

	type change struct {
		Path, Op string
		From, To any
	}
	var d struct {
		From, To string
		Changes  []change
	}
	s.do(t, "GET", svc+"/diff?from=1.0.0&to=1.1.0", "", 200, &d)
	want := change{Path: "routes[name=list].backend.path", Op: "changed", From: "/v1/pets", To: "/v3/pets"}
	if len(d.Changes) != 1 || d.Changes[0] != want {
		t.Fatalf("diff 1.0.0 → 1.1.0 = %+v, want exactly %+v", d.Changes, want)
	}
	s.do(t, "GET", svc+"/diff?from=1.0.1&to=1.1.0", "", 200, &d)
	if len(d.Changes) != 2 {
		t.Errorf("diff 1.0.1 → 1.1.0 = %+v, want the route removed and the path changed", d.Changes)
	}

	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")
	out, errOut, code := s.ctl(t, cfg, "diff-version", "petstore", "1.0.0", "1.1.0")
	if code != 3 || out != "~ routes[name=list].backend.path: \"/v1/pets\" → \"/v3/pets\"\n" {
		t.Errorf("ctl diff-version 1.0.0 1.1.0: exit %d, out %q, err %q", code, out, errOut)
	}
	if out, _, code := s.ctl(t, cfg, "diff-version", "petstore", "1.1.0"); code != 0 || out != "no differences\n" {
		t.Errorf("ctl diff-version 1.1.0 (to the template): exit %d, out %q", code, out)
	}
	out, _, code = s.ctl(t, cfg, "diff-version", "petstore", "1.0.0", "template", "-o", "json")
	var j struct{ Changes []change }
	if code != 3 || json.Unmarshal([]byte(out), &j) != nil || len(j.Changes) != 1 || j.Changes[0] != want {
		t.Errorf("ctl diff-version -o json: exit %d, %s", code, out)
	}
	if _, errOut, code := s.ctl(t, cfg, "diff-version", "petstore", "9.9.9"); code != 1 || !strings.Contains(errOut, "9.9.9") {
		t.Errorf("ctl diff-version of a missing version: exit %d, %s", code, errOut)
	}
	if _, _, code := s.ctl(t, cfg, "diff-version", "petstore"); code != 2 {
		t.Errorf("ctl diff-version without FROM: exit %d, want 2", code)
	}

	// The sync's dry run: what production would run, and nothing runs.
	out = s.mustCtl(t, cfg, "sync-version", "petstore", "--from", "default", "--to", "production", "--dry-run")
	if !strings.Contains(out, "would run version 1.1.0 in production") || !strings.Contains(out, `+ version: "1.1.0"`) ||
		!strings.Contains(out, "+ routes: ") {
		t.Errorf("ctl sync-version --dry-run said:\n%s", out)
	}
	var running struct{ Total int }
	s.do(t, "GET", "/api/v1/gateway-groups/production/services", "", 200, &running)
	if running.Total != 0 {
		t.Errorf("the dry run left %d service(s) running in production", running.Total)
	}
}
