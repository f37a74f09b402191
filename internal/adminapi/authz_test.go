package adminapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/golden"
	"github.com/portico-gw/portico/internal/rbac"
)

// TestEveryEndpointDeclaresAPermission fails the build of a new endpoint
// that names no permission (or one rbac does not define): every request
// but login, the invite link and the OpenAPI document is checked.
func TestEveryEndpointDeclaresAPermission(t *testing.T) {
	for _, ep := range (&server{}).endpoints() {
		name := ep.method + " " + ep.path
		switch {
		case ep.public && ep.perm != "":
			t.Errorf("%s is public but names permission %s", name, ep.perm)
		case ep.public:
		case ep.perm == "":
			t.Errorf("%s declares no permission", name)
		case !rbac.Known(ep.perm):
			t.Errorf("%s declares %q, which rbac does not define", name, ep.perm)
		case strings.Contains(ep.path, "{p}") && ep.anyProject:
			t.Errorf("%s is under a project and anyProject at once", name)
		case !strings.Contains(ep.path, "{p}") && !ep.anyProject && isProjectPermission(ep.perm):
			// A project permission checked in the system scope is only a
			// super_admin's: almost surely a row that forgot anyProject.
			t.Errorf("%s checks project permission %s outside a project without anyProject", name, ep.perm)
		}
	}
}

func isProjectPermission(p rbac.Permission) bool {
	for _, q := range rbac.ProjectPermissions {
		if p == q {
			return true
		}
	}
	return false
}

// TestPublicEndpointsAreFew pins the endpoints anyone may call, so that
// making one public is a visible decision.
func TestPublicEndpointsAreFew(t *testing.T) {
	allowed := map[string]bool{
		"POST /auth/login": true, "GET /openapi.json": true, "POST /auth/accept": true,
		"GET /auth/oidc/start": true, "GET /auth/oidc/callback": true,
		"POST /auth/signup": true, // 404 unless the install opened sign-up
	}
	for _, ep := range (&server{}).endpoints() {
		if ep.public && !allowed[ep.method+" "+ep.path] {
			t.Errorf("%s %s is public", ep.method, ep.path)
		}
	}
}

// TestPermissionsDocument keeps docs/permissions.md what the table says
// (go test ./internal/adminapi -run PermissionsDocument -update).
func TestPermissionsDocument(t *testing.T) {
	golden.CheckFile(t, "../../docs/permissions.md", []byte(PermissionsDocument()))
}

// TestProviderQueryIsIgnoredOnlyOnCallbacks: a sign-in callback ignores
// the parameters an identity provider adds; every other endpoint refuses
// a parameter it does not read.
func TestProviderQueryIsIgnoredOnlyOnCallbacks(t *testing.T) {
	for _, ep := range (&server{}).endpoints() {
		r := httptest.NewRequest(ep.method, Prefix+ep.path+"?authuser=0&prompt=consent", nil)
		err := checkQuery(ep, r)
		if ep.providerQuery != (err == nil) {
			t.Errorf("%s %s (providerQuery %v): checkQuery = %v", ep.method, ep.path, ep.providerQuery, err)
		}
		if ep.providerQuery && ep.path != oidcCallbackPath {
			t.Errorf("%s %s ignores unknown query parameters; only sign-in callbacks may", ep.method, ep.path)
		}
	}
}
