package adminapi

import (
	"sort"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

func permStrings(ps []rbac.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func (c *call) me() (any, error) {
	who := c.who
	res := spec.Identity{User: c.user, Scope: spec.ScopeFull, Permissions: permStrings(rbac.Baseline), Projects: []spec.ProjectGrant{}}
	if who.ReadOnly {
		res.Scope = spec.ScopeRead
	}
	if who.Super() {
		all := append(append(append([]rbac.Permission{}, rbac.Baseline...), rbac.System...), rbac.ProjectPermissions...)
		res.Permissions = permStrings(all)
	}
	for project, m := range who.Members {
		res.Projects = append(res.Projects, spec.ProjectGrant{Project: project, Role: m.Role, Permissions: permStrings(m.Permissions)})
	}
	sort.Slice(res.Projects, func(i, j int) bool { return res.Projects[i].Project < res.Projects[j].Project })
	return res, nil
}
