package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// member makes user name (system role user) a member of project with
// role, logs them in and answers their token.
func (a *testAPI) member(t *testing.T, name, project, role string) string {
	t.Helper()
	const pw = "member-password-long"
	hash, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = a.store.Tx(ctx, func(tx store.Tx) error {
		u := &spec.User{Username: name, Role: rbac.User}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			if !errors.Is(err, store.ErrConflict) {
				return err
			}
			if *u, _, err = tx.UserByName(ctx, name); err != nil {
				return err
			}
		}
		if project == "" {
			return nil
		}
		_, err := tx.PutMember(ctx, &spec.Member{Project: project, UserID: u.ID, Role: role})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Token string }
	a.decode(a.doToken("", "POST", "/auth/login", loginBody(name, pw)), &l)
	return l.Token
}

// wantDenied checks a 403 naming the permission.
func wantDenied(t *testing.T, r response, perm rbac.Permission) {
	t.Helper()
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403 naming %s; body %s", r.status, perm, r.body)
	}
	if p := r.problem(t); p.Permission != string(perm) || !strings.Contains(p.Detail, string(perm)) {
		t.Errorf("problem %+v, want permission %s named", p, perm)
	}
}

// TestProviderPublishesToTestOnly: an api_provider submits to the test
// group, is refused production (403 naming group:production:publish, and
// nothing changed), and the project admin publishes.
func TestProviderPublishesToTestOnly(t *testing.T) {
	a, _ := shopAPI(t)
	provider := a.member(t, "pat", "shop", rbac.APIProvider)
	admin := a.member(t, "ada", "shop", rbac.ProjectAdmin)

	if r := a.doToken(provider, "POST", "/projects/shop/services/user/actions/submit", nil); r.status != http.StatusOK {
		t.Fatalf("provider submit: %d %s", r.status, r.body)
	}
	r := a.doToken(provider, "POST", "/projects/shop/services/user/actions/publish", nil)
	wantDenied(t, r, rbac.ProductionPublish)
	// The low-level publish to production is refused the same way, and
	// rolled back: production runs nothing.
	r = a.doToken(provider, "POST", "/projects/shop/services/user/publish", map[string]any{"group": "production", "version": "9.9.9"})
	wantDenied(t, r, rbac.ProductionPublish)
	var running listResult
	a.mustJSON("GET", "/gateway-groups/production/services", nil, http.StatusOK, &running)
	if running.Total != 0 {
		t.Fatalf("production runs %d services after refused publishes", running.Total)
	}
	if r := a.doToken(admin, "POST", "/projects/shop/services/user/actions/publish", nil); r.status != http.StatusOK {
		t.Fatalf("project admin publish: %d %s", r.status, r.body)
	}
	// A canary in production is the admin's too.
	r = a.doToken(provider, "POST", "/projects/shop/services/user/canary", map[string]any{"group": "production", "weight": 10,
		"target": map[string]any{"upstream": map[string]any{"nodes": []map[string]any{{"host": "127.0.0.1", "port": 9}}}}})
	wantDenied(t, r, rbac.ProductionPublish)
	// The provider may not change who is a member, nor create projects.
	wantDenied(t, a.doToken(provider, "POST", "/projects", map[string]any{"id": "mine"}), rbac.ProjectCreate)
	wantDenied(t, a.doToken(provider, "DELETE", "/projects/shop", nil), rbac.ProjectDelete)
}

// TestOtherProjectsAreInvisible: a member of one project gets, for another
// project's objects, exactly the answer of a project that does not exist,
// and lists show only their projects.
func TestOtherProjectsAreInvisible(t *testing.T) {
	a, _ := shopAPI(t)
	dev := a.member(t, "dev", "default", rbac.Developer)
	hidden := a.doToken(dev, "GET", "/projects/shop/services", nil)
	missing := a.doToken(dev, "GET", "/projects/nowhere/services", nil)
	if hidden.status != http.StatusNotFound || missing.status != http.StatusNotFound {
		t.Fatalf("statuses %d and %d, want 404 for both", hidden.status, missing.status)
	}
	if got, want := string(hidden.body), strings.ReplaceAll(string(missing.body), "nowhere", "shop"); got != want {
		t.Errorf("another project's answer tells it exists:\n%s\nwant\n%s", got, want)
	}
	// Deeper paths, writes and the project itself answer the same.
	for _, r := range []response{
		a.doToken(dev, "GET", "/projects/shop", nil),
		a.doToken(dev, "GET", "/projects/shop/services/user", nil),
		a.doToken(dev, "DELETE", "/projects/shop/services/user", nil),
		a.doToken(dev, "POST", "/projects/shop/services/user/actions/submit", nil),
	} {
		if r.status != http.StatusNotFound || !strings.Contains(string(r.body), `project \"shop\" not found`) {
			t.Errorf("got %d %s, want the missing project's 404", r.status, r.body)
		}
	}
	var projects struct {
		Items []spec.Project
		Total int
	}
	a.decode(a.doToken(dev, "GET", "/projects", nil), &projects)
	if projects.Total != 1 || len(projects.Items) != 1 || projects.Items[0].ID != "default" {
		t.Errorf("developer lists %+v, want only default", projects)
	}
	// A developer reads their project's services but may not change them.
	if r := a.doToken(dev, "GET", "/projects/default/services", nil); r.status != http.StatusOK {
		t.Errorf("developer reads own project's services: %d %s", r.status, r.body)
	}
	wantDenied(t, a.doToken(dev, "POST", "/projects/default/services", map[string]any{"name": "x"}), rbac.ServiceWrite)
	// What runs in a group is shown for visible projects only.
	a.mustAction("submit", nil)
	var running listResult
	a.decode(a.doToken(dev, "GET", "/gateway-groups/test/services", nil), &running)
	if running.Total != 0 {
		t.Errorf("developer sees %d services of another project running in test", running.Total)
	}
	var hist listResult
	a.decode(a.doToken(dev, "GET", "/gateway-groups/test/history", nil), &hist)
	if hist.Total != 0 {
		t.Errorf("developer sees %d history events of another project", hist.Total)
	}
	// Subscribing to another project's unlisted service is answered like
	// a missing service.
	var app spec.Application
	a.decode(a.doToken(dev, "POST", "/applications", map[string]any{"name": "mine"}), &app)
	r := a.doToken(dev, "POST", "/subscriptions", map[string]any{"application": app.ID, "service": "user", "project": "shop"})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "does not exist") {
		t.Errorf("subscription to an unlisted service of another project: %d %s", r.status, r.body)
	}
}

// TestViewerReadsOnly: a viewer reads everything of the project and
// changes nothing; the audit log shows a project admin only their
// project's events.
func TestViewerReadsOnly(t *testing.T) {
	a, _ := shopAPI(t)
	viewer := a.member(t, "vic", "shop", rbac.Viewer)
	for _, p := range []string{"/projects/shop", "/projects/shop/services", "/projects/shop/upstreams", "/projects/shop/config", "/projects/shop/services/user/versions"} {
		if r := a.doToken(viewer, "GET", p, nil); r.status != http.StatusOK {
			t.Errorf("viewer GET %s: %d %s", p, r.status, r.body)
		}
	}
	wantDenied(t, a.doToken(viewer, "PATCH", "/projects/shop/services/user", map[string]any{"description": "x"}), rbac.ServiceWrite)
	wantDenied(t, a.doToken(viewer, "POST", "/projects/shop/services/user/actions/submit", nil), rbac.ServicePublish)
	wantDenied(t, a.doToken(viewer, "GET", "/audit-events", nil), rbac.AuditRead)
	wantDenied(t, a.doToken(viewer, "POST", "/gateway-groups", map[string]any{"name": "g"}), rbac.GroupManage)

	admin := a.member(t, "ada", "shop", rbac.ProjectAdmin)
	var events struct {
		Items []spec.AuditEvent
		Total int
	}
	a.decode(a.doToken(admin, "GET", "/audit-events?page_size=500", nil), &events)
	if events.Total == 0 {
		t.Fatal("the project admin sees no audit events of their project")
	}
	for _, e := range events.Items {
		if e.Project != "shop" {
			t.Errorf("project admin sees event %+v of project %q", e, e.Project)
		}
	}
}

// TestGuessedTokensLockTheClient: unknown bearer tokens count as failed
// logins of the client address, so guessing personal access tokens is
// throttled like guessing passwords: after the client policy's threshold
// every request of that address is refused with 429 before any lookup,
// a valid token included, until the lockout ends.
func TestGuessedTokensLockTheClient(t *testing.T) {
	a := newTestAPI(t)
	var statuses []int
	for i := range clientPolicy.threshold + 2 {
		r := a.doToken("pat_guess"+strings.Repeat("x", i), "GET", "/me", nil)
		statuses = append(statuses, r.status)
	}
	for i, st := range statuses {
		want := http.StatusUnauthorized
		if i >= clientPolicy.threshold {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("guess %d: %d, want %d (all %v)", i+1, st, want, statuses)
		}
	}
	if r := a.do("GET", "/me", nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("a valid token from the locked address: %d, want 429 with Retry-After", r.status)
	}
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		events, _, err := tx.ListAudit(context.Background(), store.AuditFilter{AllProjects: true, Action: "auth.lockout"}, store.ListQuery{})
		if err == nil && (len(events) != 1 || !strings.HasPrefix(events[0].Resource, "/clients/")) {
			t.Errorf("lockout audit events %+v, want one of the client", events)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
