package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
)

// The permission matrix: every endpoint of the admin API's table (read
// from the binary's own OpenAPI document, where each operation names its
// permission and scope) × every built-in role × the caller's own project
// and another one. The expected answer is derived from the declared
// permission and the roles' definitions in rbac; the real binary must
// give it over HTTP.
//
// Requests carry an unknown query parameter: the admin API checks the
// caller before it reads anything of the request, so an allowed caller
// gets the 400 that names the parameter (and nothing happens), a caller
// without the permission a 403 naming it, and a caller who may not see the
// project the 404 of a project that does not exist.

const probeParam = "permission_matrix_probe"

// matrixRole is one column of the matrix: a built-in role and the token of
// a user holding it in project "own" (super_admin: everywhere).
type matrixRole struct {
	name  string
	token string
	perms []rbac.Permission // project permissions in "own"
	super bool
}

// operation is one endpoint as the OpenAPI document describes it.
type operation struct {
	method, path string
	perm         rbac.Permission
	scope        string // project, any-project, system; "" for public
}

func adminOperations(t *testing.T, s *server) []operation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Permission string `json:"x-permission"`
			Scope      string `json:"x-permission-scope"`
		} `json:"paths"`
	}
	s.do(t, "GET", "/api/v1/openapi.json", "", 200, &doc)
	var ops []operation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			ops = append(ops, operation{method: strings.ToUpper(method), path: path, perm: rbac.Permission(op.Permission), scope: op.Scope})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	if len(ops) < 100 {
		t.Fatalf("the OpenAPI document lists %d operations; the table has more", len(ops))
	}
	return ops
}

// callAs sends one request with a bearer token and answers status and body.
func callAs(t *testing.T, s *server, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.Admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// matrixUsers makes groups, projects "own" and "other", and one user per
// built-in project role, member of "own" with it.
func matrixUsers(t *testing.T, s *server) []matrixRole {
	t.Helper()
	s.do(t, "POST", "/api/v1/gateway-groups", `{"name":"test","path_prefix":"/t/{project}"}`, 201, nil)
	s.do(t, "POST", "/api/v1/gateway-groups", `{"name":"production","path_prefix":"/p"}`, 201, nil)
	for _, p := range []string{"own", "other"} {
		s.do(t, "POST", "/api/v1/projects", fmt.Sprintf(`{"id":%q,"test_group":"test","production_group":"production"}`, p), 201, nil)
	}
	roles := []matrixRole{{name: rbac.SuperAdmin, token: s.Token, super: true}}
	for _, role := range rbac.BuiltinProjectRoles {
		name := "m-" + strings.ReplaceAll(role, "_", "-")
		const pw = "Matrix-Role-Passphrase-417"
		s.do(t, "POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw), 201, nil)
		s.do(t, "PUT", "/api/v1/projects/own/members/"+name, fmt.Sprintf(`{"role":%q}`, role), http.StatusOK, nil)
		var login struct{ Token string }
		status, body := callAs(t, s, "", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw))
		if status != 200 || json.Unmarshal(body, &login) != nil {
			t.Fatalf("login %s: %d %s", name, status, body)
		}
		roles = append(roles, matrixRole{name: role, token: login.Token, perms: rbac.BuiltinRoles[role]})
	}
	return roles
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// expect is the matrix's rule: what a role gets for an operation in a
// project ("" outside projects).
func expect(r matrixRole, op operation, project string) int {
	held := r.super || slices.Contains(rbac.Baseline, op.perm)
	switch op.scope {
	case "project":
		if !r.super && project != "own" {
			return http.StatusNotFound
		}
		held = held || slices.Contains(r.perms, op.perm)
	case "any-project":
		held = held || slices.Contains(r.perms, op.perm)
	}
	if !held {
		return http.StatusForbidden
	}
	return http.StatusBadRequest // allowed: the probe parameter is refused
}

func TestPermissionMatrixThroughTheBinary(t *testing.T) {
	t.Parallel() // its own server and users: it runs beside the other parallel tests
	s := startServer(t, t.TempDir())
	ops := adminOperations(t, s)
	roles := matrixUsers(t, s)
	counts := map[int]int{}
	for _, op := range ops {
		if op.scope == "" {
			if op.perm != "" {
				t.Errorf("%s %s names %s without a scope", op.method, op.path, op.perm)
			}
			continue // public: login, the invite link, single sign-on, this document
		}
		if !rbac.Known(op.perm) {
			t.Errorf("%s %s declares unknown permission %q", op.method, op.path, op.perm)
			continue
		}
		projects := []string{""}
		if op.scope == "project" {
			projects = []string{"own", "other"}
		}
		for _, project := range projects {
			path := pathParam.ReplaceAllStringFunc(op.path, func(p string) string {
				if p == "{p}" {
					return project
				}
				return "x"
			})
			url := "/api/v1" + path + "?" + probeParam + "=1"
			for _, r := range roles {
				want := expect(r, op, project)
				status, body := callAs(t, s, r.token, op.method, url, "")
				counts[want]++
				if status != want {
					t.Errorf("%s %s as %s in %q: %d, want %d: %s", op.method, op.path, r.name, project, status, want, body)
					continue
				}
				checkMatrixAnswer(t, op, r.name, project, want, body)
			}
		}
	}
	t.Logf("%d operations × %d roles: %d allowed, %d forbidden, %d hidden", len(ops), len(roles),
		counts[http.StatusBadRequest], counts[http.StatusForbidden], counts[http.StatusNotFound])
	if counts[http.StatusForbidden] == 0 || counts[http.StatusNotFound] == 0 || counts[http.StatusBadRequest] == 0 {
		t.Error("the matrix did not see every kind of answer")
	}
}

// checkMatrixAnswer checks the body of an answer beside its status: the
// 400 names the probe, the 403 the permission, the 404 the project as if
// it did not exist.
func checkMatrixAnswer(t *testing.T, op operation, role, project string, status int, body []byte) {
	t.Helper()
	var p struct {
		Detail     string `json:"detail"`
		Permission string `json:"permission"`
		Errors     []struct{ Field string }
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s %s as %s: not a problem: %s", op.method, op.path, role, body)
		return
	}
	switch status {
	case http.StatusBadRequest:
		if len(p.Errors) == 0 || p.Errors[0].Field != probeParam {
			t.Errorf("%s %s as %s: allowed, but the 400 is not the probe's: %s", op.method, op.path, role, body)
		}
	case http.StatusForbidden:
		if p.Permission != string(op.perm) {
			t.Errorf("%s %s as %s: 403 names %q, want %q", op.method, op.path, role, p.Permission, op.perm)
		}
	case http.StatusNotFound:
		if p.Detail != fmt.Sprintf("project %q not found", project) {
			t.Errorf("%s %s as %s: the 404 is not a missing project's: %s", op.method, op.path, role, body)
		}
	}
}

// TestPermissionScenariosThroughTheBinary walks the people of a project
// through the publishing lifecycle against the real binary: the provider
// submits to test and is refused production, the project admin publishes;
// a developer cannot see another project's services; a disabled user's
// session and personal access token stop at once; a read-only token reads
// and cannot write.
func TestPermissionScenariosThroughTheBinary(t *testing.T) {
	t.Parallel() // its own server and users: it runs beside the other parallel tests
	// The embedded gateway serves both stages; they are made by the flags.
	s := startServer(t, t.TempDir(), "--group", "test", "--group", "production")
	s.do(t, "PATCH", "/api/v1/gateway-groups/test", `{"path_prefix":"/t/{project}"}`, 200, nil)
	s.do(t, "PATCH", "/api/v1/gateway-groups/production", `{"path_prefix":"/p"}`, 200, nil)
	for _, p := range []string{"shop", "bank"} {
		s.do(t, "POST", "/api/v1/projects", fmt.Sprintf(`{"id":%q,"test_group":"test","production_group":"production"}`, p), 201, nil)
	}
	login := func(name, project, role string) string {
		t.Helper()
		const pw = "Scenario-Passphrase-2026"
		s.do(t, "POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw), 201, nil)
		s.do(t, "PUT", "/api/v1/projects/"+project+"/members/"+name, fmt.Sprintf(`{"role":%q}`, role), 200, nil)
		var l struct{ Token string }
		status, body := callAs(t, s, "", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw))
		if status != 200 || json.Unmarshal(body, &l) != nil {
			t.Fatalf("login %s: %d %s", name, status, body)
		}
		return l.Token
	}
	provider := login("paula", "shop", rbac.APIProvider)
	admin := login("adam", "shop", rbac.ProjectAdmin)
	dev := login("dora", "bank", rbac.Developer)
	want := func(token, method, path, body string, status int) []byte {
		t.Helper()
		got, b := callAs(t, s, token, method, "/api/v1"+path, body)
		if got != status {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, b)
		}
		return b
	}

	// The provider designs and submits to test.
	host, port := backend(t, "shop-backend")
	want(provider, "POST", "/projects/shop/services", fmt.Sprintf(`{"name":"orders","path":"/orders","upstream":{"nodes":[{"host":%q,"port":%d}]},"routes":[{"name":"list"}]}`, host, port), 201)
	want(provider, "POST", "/projects/shop/services/orders/actions/submit", "", 200)
	// Production is the project admin's: the provider's publish is refused
	// naming the permission, and nothing reaches production.
	b := want(provider, "POST", "/projects/shop/services/orders/actions/publish", "", 403)
	if !strings.Contains(string(b), string(rbac.ProductionPublish)) {
		t.Errorf("the refusal does not name %s: %s", rbac.ProductionPublish, b)
	}
	var running struct{ Total int }
	s.do(t, "GET", "/api/v1/gateway-groups/production/services", "", 200, &running)
	if running.Total != 0 {
		t.Fatalf("production runs %d services after the refused publish", running.Total)
	}
	want(admin, "POST", "/projects/shop/services/orders/actions/publish", "", 200)
	var live struct {
		Items []struct{ URLs []string }
	}
	s.do(t, "GET", "/api/v1/gateway-groups/production/services", "", 200, &live)
	if len(live.Items) != 1 || len(live.Items[0].URLs) == 0 {
		t.Fatalf("production runs %+v after the admin's publish", live)
	}
	waitFor(t, s.Gateway+live.Items[0].URLs[0], 10*time.Second, func(status int, _ []byte) bool { return status == 200 })

	// Another project's services do not exist for the developer.
	hidden := want(dev, "GET", "/projects/shop/services", "", 404)
	missing := want(dev, "GET", "/projects/nowhere/services", "", 404)
	if string(hidden) != strings.ReplaceAll(string(missing), "nowhere", "shop") {
		t.Errorf("the answer about another project tells it exists:\n%s\n%s", hidden, missing)
	}
	var projects struct {
		Items []struct{ ID string }
	}
	if err := json.Unmarshal(want(dev, "GET", "/projects", "", 200), &projects); err != nil || len(projects.Items) != 1 || projects.Items[0].ID != "bank" {
		t.Errorf("the developer lists %+v, want only bank", projects)
	}

	// A read-only token reads and cannot write.
	var pat struct{ Token string }
	if err := json.Unmarshal(want(provider, "POST", "/tokens", `{"name":"ci","scope":"read","expires_in_days":7}`, 201), &pat); err != nil || !strings.HasPrefix(pat.Token, "pat_") {
		t.Fatalf("read-only token: %+v %v", pat, err)
	}
	want(pat.Token, "GET", "/projects/shop/services", "", 200)
	want(pat.Token, "POST", "/projects/shop/services", `{"name":"more"}`, 403)
	want(pat.Token, "DELETE", "/projects/shop/services/orders", "", 403)
	var full struct{ Token string }
	_ = json.Unmarshal(want(provider, "POST", "/tokens", `{"name":"deploy","scope":"full","expires_in_days":7}`, 201), &full)
	want(full.Token, "GET", "/me", "", 200)

	// Disabling the provider stops their session and both tokens at once.
	s.do(t, "PATCH", "/api/v1/users/paula", `{"disabled":true}`, 200, nil)
	for _, tok := range []string{provider, pat.Token, full.Token} {
		want(tok, "GET", "/me", "", 401)
	}
	// Enabled again, the tokens work again; the session was ended.
	s.do(t, "PATCH", "/api/v1/users/paula", `{"disabled":false}`, 200, nil)
	want(full.Token, "GET", "/me", "", 200)
}
