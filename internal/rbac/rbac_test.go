package rbac

import (
	"errors"
	"slices"
	"testing"
)

func TestStage(t *testing.T) {
	for _, c := range []struct{ group, test, prod, want string }{
		{"test", "test", "production", StageTest},
		{"production", "test", "production", StageProduction},
		{"default", "default", "default", StageProduction}, // one group for both: it serves real traffic
		{"elsewhere", "test", "production", StageProduction},
	} {
		if got := Stage(c.group, c.test, c.prod); got != c.want {
			t.Errorf("Stage(%q, %q, %q) = %q, want %q", c.group, c.test, c.prod, got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	super := &Principal{SystemRole: SuperAdmin}
	provider := &Principal{SystemRole: User, Members: map[string]Membership{"shop": {Role: APIProvider, Permissions: BuiltinRoles[APIProvider]}}}
	nobody := &Principal{SystemRole: User}
	for _, c := range []struct {
		name    string
		who     *Principal
		perm    Permission
		project string
		want    bool
	}{
		{"super holds system permissions", super, UserManage, "", true},
		{"super holds project permissions anywhere", super, ProductionPublish, "any", true},
		{"baseline for everybody", nobody, CatalogRead, "", true},
		{"baseline in a project too", nobody, SessionSelf, "shop", true},
		{"no system permission without the role", provider, GroupManage, "", false},
		{"provider writes services", provider, ServiceWrite, "shop", true},
		{"provider publishes to test", provider, TestPublish, "shop", true},
		{"provider may not publish to production", provider, ProductionPublish, "shop", false},
		{"nothing in another project", provider, ServiceRead, "other", false},
		{"project permission asked in the system scope", provider, ServiceRead, "", false},
	} {
		err := c.who.Check(c.perm, c.project)
		if got := err == nil; got != c.want {
			t.Errorf("%s: Check(%s, %q) = %v, want allowed %v", c.name, c.perm, c.project, err, c.want)
		}
		if err != nil {
			var de *DeniedError
			if !errors.Is(err, ErrDenied) || !errors.As(err, &de) || de.Permission != c.perm {
				t.Errorf("%s: error %v does not name %s", c.name, err, c.perm)
			}
		}
	}
	if !provider.Visible("shop") || provider.Visible("other") || !super.Visible("other") {
		t.Error("Visible: members see their projects, super_admin every one")
	}
	if !provider.Anywhere(ServiceWrite) || provider.Anywhere(AuditRead) || !super.Anywhere(AuditRead) {
		t.Error("Anywhere answers by the caller's projects")
	}
	if ids, all := provider.Projects(ServiceRead); all || !slices.Equal(ids, []string{"shop"}) {
		t.Errorf("Projects = %v, %v", ids, all)
	}
	if _, all := super.Projects(AuditRead); !all {
		t.Error("super_admin's Projects are all")
	}
}

// TestBuiltinRoles pins what the roles of the publishing lifecycle mean:
// every role holds only project permissions, each once; a provider cannot
// reach production; a viewer and a developer only read.
func TestBuiltinRoles(t *testing.T) {
	for name, perms := range BuiltinRoles {
		if err := ValidCustom(perms); err != nil {
			t.Errorf("role %s: %v", name, err)
		}
	}
	if slices.Contains(BuiltinRoles[APIProvider], ProductionPublish) || slices.Contains(BuiltinRoles[APIProvider], MemberManage) {
		t.Error("api_provider reaches production or membership")
	}
	for _, role := range []string{Viewer, Developer} {
		for _, p := range BuiltinRoles[role] {
			if p != ProjectRead && p != MemberRead && !slices.Contains(reads, p) {
				t.Errorf("%s holds %s, which is not a read", role, p)
			}
		}
	}
	if len(BuiltinRoles[ProjectAdmin]) != len(ProjectPermissions) {
		t.Error("project_admin holds every project permission")
	}
	for _, name := range BuiltinProjectRoles {
		if _, ok := BuiltinRoles[name]; !ok || !IsBuiltin(name) {
			t.Errorf("%s is listed but not defined", name)
		}
	}
}

func TestValidCustom(t *testing.T) {
	for _, c := range []struct {
		perms []Permission
		ok    bool
	}{
		{[]Permission{ServiceRead, ServicePublish, TestPublish}, true},
		{nil, true},
		{[]Permission{UserManage}, false}, // system permissions are not a project role's
		{[]Permission{"service:fly"}, false},
		{[]Permission{ServiceRead, ServiceRead}, false},
	} {
		if err := ValidCustom(c.perms); (err == nil) != c.ok {
			t.Errorf("ValidCustom(%v) = %v, want ok %v", c.perms, err, c.ok)
		}
	}
}
