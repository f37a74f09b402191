package adminapi

import (
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
)

// PermissionsDocument renders docs/permissions.md from the endpoint table
// and rbac's roles, so that the reference cannot drift from what the
// server checks (TestPermissionsDocument compares the two).
func PermissionsDocument() string {
	var b strings.Builder
	b.WriteString(`# Permissions

<!-- Generated from the admin API's endpoint table and internal/rbac by
     go test ./internal/adminapi -run PermissionsDocument -update
     Do not edit by hand. -->

Every admin API endpoint names the permission it needs. Permissions are
` + "`resource:action`" + `; ` + "`group:test:publish`" + ` and ` + "`group:production:publish`" + `
are the release stages of a project (a group is the project's **test**
stage only when it is its test group and not also its production group;
every other group counts as **production**).

- **project** scope: checked in the project of the path. A caller who is
  not a member (and not a super_admin) gets the 404 of a project that does
  not exist; a member without the permission gets 403 naming it.
- **system** scope: held by a super_admin, or by everybody when it is in
  the baseline.
- **any-project** scope: held in the system scope or in any of the
  caller's projects; the answer is narrowed to those projects.

Release actions also need the permission of the stage of the group they
change: publish, sync, rollback and canary actions the stage of their
group; submit and withdraw ` + "`group:test:publish`" + `; publish, republish,
disable and enable ` + "`group:production:publish`" + ` (disable and enable the test
stage's too). A personal access token of scope ` + "`read`" + ` may only call GET
endpoints.

## Roles

`)
	fmt.Fprintf(&b, "| role | scope | permissions |\n| --- | --- | --- |\n")
	fmt.Fprintf(&b, "| `%s` | system | every permission, in every project |\n", rbac.SuperAdmin)
	fmt.Fprintf(&b, "| `%s` | system | the baseline: %s |\n", rbac.User, code(rbac.Baseline))
	for _, name := range rbac.BuiltinProjectRoles {
		fmt.Fprintf(&b, "| `%s` | project | %s |\n", name, code(rbac.BuiltinRoles[name]))
	}
	b.WriteString("\nCustom roles (`POST /api/v1/roles`) are sets of project permissions, given per project like the built-in ones.\n\n## Endpoints\n\n")
	b.WriteString("| method | path | permission | scope |\n| --- | --- | --- | --- |\n")
	for _, ep := range (&server{}).endpoints() {
		perm, scope := "public", ""
		if !ep.public {
			perm, scope = "`"+string(ep.perm)+"`", permissionScope(ep)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", ep.method, Prefix+ep.path, perm, scope)
	}
	return b.String()
}

func code(ps []rbac.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = "`" + string(p) + "`"
	}
	return strings.Join(s, ", ")
}
