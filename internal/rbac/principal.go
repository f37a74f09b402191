package rbac

import (
	"slices"
	"sort"
)

// Principal is a signed-in caller as Check sees it.
type Principal struct {
	UserID     string
	Username   string
	SystemRole string                // SuperAdmin or User
	Members    map[string]Membership // by project id
	// ReadOnly is set for a personal access token of scope "read": it may
	// only read, whatever its user's roles allow.
	ReadOnly bool
}

// Membership is a user's role in one project and what it holds there.
type Membership struct {
	Role        string
	Permissions []Permission
}

// Super reports whether the caller holds every permission.
func (p *Principal) Super() bool { return p.SystemRole == SuperAdmin }

// Visible reports whether the caller may know project exists: a
// super_admin sees every project, anyone else their own.
func (p *Principal) Visible(project string) bool {
	if p.Super() {
		return true
	}
	_, ok := p.Members[project]
	return ok
}

// Has reports whether the caller holds perm in project ("" for the system
// scope: Baseline and, for a super_admin, everything).
func (p *Principal) Has(perm Permission, project string) bool {
	if p.Super() || slices.Contains(Baseline, perm) {
		return true
	}
	if project == "" {
		return false
	}
	m, ok := p.Members[project]
	return ok && slices.Contains(m.Permissions, perm)
}

// Check answers nil when the caller holds perm in project, else a
// *DeniedError naming it.
func (p *Principal) Check(perm Permission, project string) error {
	if p.Has(perm, project) {
		return nil
	}
	return &DeniedError{Permission: perm, Project: project}
}

// Anywhere reports whether the caller holds perm in the system scope or in
// at least one project: endpoints outside a project whose answer the
// handler narrows to the caller's projects (the audit log, lockouts) ask
// this first.
func (p *Principal) Anywhere(perm Permission) bool {
	if p.Has(perm, "") {
		return true
	}
	for _, m := range p.Members {
		if slices.Contains(m.Permissions, perm) {
			return true
		}
	}
	return false
}

// Projects lists, sorted, the projects where the caller holds perm; nil
// with all true for a super_admin (every project).
func (p *Principal) Projects(perm Permission) (ids []string, all bool) {
	if p.Super() {
		return nil, true
	}
	for id, m := range p.Members {
		if slices.Contains(m.Permissions, perm) || slices.Contains(Baseline, perm) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, false
}
