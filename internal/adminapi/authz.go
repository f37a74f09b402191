package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Authorization: every endpoint of the table names the permission it
// needs (endpoint.perm); wrap asks authorize before anything else of the
// request is looked at, so a caller without it learns nothing but the
// permission's name, and a caller who may not see a project learns
// nothing at all (the 404 of a missing project).

// principal loads what Check needs of the caller: their system role,
// their project memberships with the permissions of each role (built-in or
// custom), and the token's scope.
func (s *server) principal(tx store.Tx, r *http.Request, u spec.User, tok store.Token) (*rbac.Principal, error) {
	p := &rbac.Principal{UserID: u.ID, Username: u.Username, SystemRole: u.Role,
		Members: map[string]rbac.Membership{}, ReadOnly: tok.Scope == spec.ScopeRead}
	ms, err := tx.ListUserMembers(r.Context(), u.ID)
	if err != nil {
		return nil, fmt.Errorf("authorize %s: %w", u.Username, err)
	}
	custom := map[string][]rbac.Permission{}
	for _, m := range ms {
		perms, ok := rbac.BuiltinRoles[m.Role]
		if !ok {
			if perms, ok = custom[m.Role]; !ok {
				role, err := tx.GetRole(r.Context(), m.Role)
				switch {
				case errors.Is(err, store.ErrNotFound):
					// A role deleted under a membership grants nothing.
				case err != nil:
					return nil, fmt.Errorf("authorize %s: %w", u.Username, err)
				}
				for _, name := range role.Permissions {
					perms = append(perms, rbac.Permission(name))
				}
				custom[m.Role] = perms
			}
		}
		p.Members[m.Project] = rbac.Membership{Role: m.Role, Permissions: perms}
	}
	return p, nil
}

// readOnlyMethod reports whether a method only reads.
func readOnlyMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead
}

// authorize checks the caller against the endpoint's permission.
func (c *call) authorize(ep endpoint) error {
	who := c.who
	if who.ReadOnly && !readOnlyMethod(ep.method) {
		return &rbac.DeniedError{Permission: ep.perm, Reason: "a read-only token cannot change anything"}
	}
	if strings.Contains(ep.path, "{p}") {
		project := c.path("p")
		if !who.Visible(project) {
			return c.hiddenProject(project)
		}
		return who.Check(ep.perm, project)
	}
	if ep.anyProject {
		if who.Anywhere(ep.perm) {
			return nil
		}
		return &rbac.DeniedError{Permission: ep.perm}
	}
	return who.Check(ep.perm, "")
}

// hiddenProject is the answer about a project the caller may not see: the
// very 404 of a project that does not exist.
func (c *call) hiddenProject(id string) error {
	return withDetail(fmt.Errorf("project %q: %w", id, store.ErrNotFound), "project %q not found", id)
}

// require checks a permission inside a handler: in project, or in the
// system scope for "".
func (c *call) require(perm rbac.Permission, project string) error {
	if project != "" && !c.who.Visible(project) {
		return c.hiddenProject(project)
	}
	return c.who.Check(perm, project)
}

// requirePublish checks that the caller may change what runs in group for
// project p: the permission of the group's stage for the project
// (group:test:publish or group:production:publish).
func (c *call) requirePublish(p spec.Project, group string) error {
	stage := rbac.Stage(group, p.TestGroup, p.ProductionGroup)
	if err := c.who.Check(rbac.GroupPublish(stage), p.ID); err != nil {
		return fmt.Errorf("gateway group %q is the %s stage of project %q: %w", group, stage, p.ID, err)
	}
	return nil
}

// requirePublishIn is requirePublish for the project of the path.
func (c *call) requirePublishIn(tx store.Tx, group string) error {
	p, err := c.loadProject(tx, c.path("p"))
	if err != nil {
		return err
	}
	return c.requirePublish(p, group)
}

// isAdmin reports whether the caller holds every permission.
func (c *call) isAdmin() bool { return c.who != nil && c.who.Super() }

// visibleProjects filters items to the projects the caller may see.
func visibleProjects[T any](c *call, items []T, project func(T) string) []T {
	if c.isAdmin() {
		return items
	}
	kept := items[:0:0]
	for _, it := range items {
		if c.who.Visible(project(it)) {
			kept = append(kept, it)
		}
	}
	return kept
}

// touchEvery bounds how often a token's last use is written: a write per
// request would queue every read behind the store's write lock.
const touchEvery = time.Minute

// maxUserAgent bounds the User-Agent kept with a session.
const maxUserAgent = 256

// userAgent is the request's User-Agent, cut to maxUserAgent bytes.
func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return strings.ToValidUTF8(ua, "")
}
