package adminapi

import (
	"sort"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

// meResponse is the calling user with what they may do: the console shows
// and hides its pages by it, scripts check before they try.
type meResponse struct {
	spec.User
	// Scope is the presented token's: "full", or "read" for a read-only
	// personal access token.
	Scope string `json:"scope"`
	// Permissions are held everywhere: the baseline of every user, and
	// every permission for a super_admin.
	Permissions []string `json:"permissions"`
	// Projects are the caller's memberships with what each role holds.
	Projects []projectGrant `json:"projects"`
}

// projectGrant is a role in one project and its permissions.
type projectGrant struct {
	Project     string   `json:"project"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
}

func permStrings(ps []rbac.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func (c *call) me() (any, error) {
	who := c.who
	res := meResponse{User: c.user, Scope: spec.ScopeFull, Permissions: permStrings(rbac.Baseline), Projects: []projectGrant{}}
	if who.ReadOnly {
		res.Scope = spec.ScopeRead
	}
	if who.Super() {
		all := append(append(append([]rbac.Permission{}, rbac.Baseline...), rbac.System...), rbac.ProjectPermissions...)
		res.Permissions = permStrings(all)
	}
	for project, m := range who.Members {
		res.Projects = append(res.Projects, projectGrant{Project: project, Role: m.Role, Permissions: permStrings(m.Permissions)})
	}
	sort.Slice(res.Projects, func(i, j int) bool { return res.Projects[i].Project < res.Projects[j].Project })
	return res, nil
}
