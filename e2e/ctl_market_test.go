package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCtlMarket: through the binary, a provider asks to delist and to list
// a service with ctl, the project admin sees the requests in ctl's inbox
// and decides them, and the catalog, the plans and the requests are lists
// of ctl.
func TestCtlMarket(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	admin := filepath.Join(t.TempDir(), "admin.json")
	s.mustCtl(t, admin, "login")
	_, port := backend(t, "market")
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"orders","upstream":`+nodes(port)+`,"routes":[{"name":"list"}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/orders/plans", `{"name":"gold","quotas":[{"count":100,"period":"second"}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/orders/actions/submit", "", 200, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/orders/actions/publish", "", 200, nil) // a super admin's own listing request: approved at once
	if out := s.mustCtl(t, admin, "list", "catalog"); !strings.Contains(out, "orders") || !strings.Contains(out, "1.0.0") {
		t.Fatalf("catalog after publishing:\n%s", out)
	}
	if out := s.mustCtl(t, admin, "list", "plans", "orders"); !strings.Contains(out, "gold") {
		t.Fatalf("plans:\n%s", out)
	}

	const pw = "Market-Provider-Passphrase-7"
	s.do(t, "POST", "/api/v1/users", `{"username":"paula","password":"`+pw+`"}`, 201, nil)
	s.do(t, "PUT", "/api/v1/projects/default/members/paula", `{"role":"api_provider"}`, 200, nil)
	provider := filepath.Join(t.TempDir(), "paula.json")
	if out, errOut, code := s.ctlIn(t, provider, pw, nil, "login", "-u", "paula"); code != 0 {
		t.Fatalf("paula's login: exit %d %q %q", code, out, errOut)
	}
	out := s.mustCtl(t, provider, "delist-service", "orders", "--comment", "retiring", "-o", "json")
	id := jsonField(t, out, "id")
	if !strings.Contains(out, `"pending"`) {
		t.Fatalf("delist-service:\n%s", out)
	}
	if out := s.mustCtl(t, provider, "list", "requests"); !strings.Contains(out, id) || !strings.Contains(out, "delisting") {
		t.Fatalf("paula's requests:\n%s", out)
	}
	if _, errOut, code := s.ctl(t, provider, "approve", id); code == 0 || !strings.Contains(errOut, "approval:review") {
		t.Fatalf("a provider approving: exit %d, %q", code, errOut)
	}
	if out := s.mustCtl(t, admin, "list", "approvals"); !strings.Contains(out, id) || !strings.Contains(out, "paula") {
		t.Fatalf("the admin's inbox:\n%s", out)
	}
	if out := s.mustCtl(t, admin, "approve", id, "--comment", "ok"); !strings.Contains(out, "approved") {
		t.Fatalf("approve:\n%s", out)
	}
	var cat struct{ Total int }
	if s.do(t, "GET", "/api/v1/catalog", "", 200, &cat); cat.Total != 0 {
		t.Fatalf("the catalog after delisting lists %d services", cat.Total)
	}
	out = s.mustCtl(t, provider, "list-service", "orders", "--auto-approve", "-o", "json")
	id = jsonField(t, out, "id")
	if out := s.mustCtl(t, provider, "cancel", id); !strings.Contains(out, "cancelled") {
		t.Fatalf("cancel:\n%s", out)
	}
}

// jsonField reads one string member of a JSON object ctl printed.
func jsonField(t *testing.T, out, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("ctl printed no JSON object: %v\n%s", err, out)
	}
	v, _ := m[name].(string)
	if v == "" {
		t.Fatalf("ctl printed no %s:\n%s", name, out)
	}
	return v
}
