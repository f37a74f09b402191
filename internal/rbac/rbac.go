// Package rbac decides who may do what: permissions (resource × action),
// the built-in roles, custom roles as sets of permissions, and Check. It
// holds no state and does no I/O: the admin API loads a Principal from the
// store and asks Check before a handler runs.
//
// There are two scopes. System permissions (users, roles, gateway groups)
// come from a user's system role: super_admin holds every permission
// everywhere. Project permissions come from the role a user has as a
// member of that project; outside their projects a user holds none, and
// the admin API answers a project they are not a member of like a missing
// one. Every signed-in user holds Baseline: their own account, tokens,
// applications and subscriptions, the catalog and the gateway groups'
// names.
package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Permission is "resource:action", or "group:STAGE:publish" for the
// release stages of a project (see GroupPublish).
type Permission string

// ErrDenied is the sentinel of every refusal Check answers.
var ErrDenied = errors.New("permission denied")

// DeniedError names the permission a caller lacks.
type DeniedError struct {
	Permission Permission
	Project    string // "" for a system permission
	Reason     string // set when the refusal is not about the role (a read-only token)
}

func (e *DeniedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s: %s needs %s", ErrDenied, e.Reason, e.Permission)
	}
	if e.Project != "" {
		return fmt.Sprintf("%s: %s in project %q", ErrDenied, e.Permission, e.Project)
	}
	return fmt.Sprintf("%s: %s", ErrDenied, e.Permission)
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// Permissions of every signed-in user (Baseline).
const (
	SessionSelf     Permission = "session:self"     // own account, password, sessions, tokens
	CatalogRead     Permission = "catalog:read"     // the listed services
	GroupRead       Permission = "group:read"       // gateway groups, what runs there (filtered to visible projects)
	RoleRead        Permission = "role:read"        // the role definitions
	ApplicationOwn  Permission = "application:own"  // own applications and their credentials
	SubscriptionOwn Permission = "subscription:own" // own subscriptions
	ApprovalOwn     Permission = "approval:own"     // own requests: see, cancel; and those the caller may decide
)

// System permissions: only a super_admin holds them.
const (
	UserRead      Permission = "user:read"
	UserManage    Permission = "user:manage"
	RoleManage    Permission = "role:manage"
	ProjectCreate Permission = "project:create"
	ProjectDelete Permission = "project:delete"
	GroupManage   Permission = "group:manage"   // create, change, delete groups; certificates; registries
	GatewayManage Permission = "gateway:manage" // join tokens of stand-alone gateways
	MarketManage  Permission = "market:manage"  // who approves a project's listings
)

// Project permissions: held through a role in a project (or everywhere by
// a super_admin).
const (
	ProjectRead       Permission = "project:read"
	ProjectUpdate     Permission = "project:update"
	MemberRead        Permission = "member:read"
	MemberManage      Permission = "member:manage"
	UpstreamRead      Permission = "upstream:read"
	UpstreamWrite     Permission = "upstream:write"
	DataSourceRead    Permission = "datasource:read"
	DataSourceWrite   Permission = "datasource:write"
	FolderRead        Permission = "folder:read"
	FolderWrite       Permission = "folder:write"
	ServiceRead       Permission = "service:read"
	ServiceWrite      Permission = "service:write"   // templates, routes, OpenAPI import
	ServicePublish    Permission = "service:publish" // publish, sync, rollback, lifecycle actions; also needs the group stage's permission
	ServiceDebug      Permission = "service:debug"
	CanaryWrite       Permission = "canary:write" // also needs the group stage's permission
	ConfigRead        Permission = "config:read"
	ConfigWrite       Permission = "config:write"
	PackageExport     Permission = "package:export"
	PackageImport     Permission = "package:import"
	ApplicationRead   Permission = "application:read" // the project's call-credential applications
	ApplicationWrite  Permission = "application:write"
	AuditRead         Permission = "audit:read"        // the project's audit events (all of them for a super_admin)
	LockoutManage     Permission = "lockout:manage"    // see and lift lockouts of the project's members
	ListingRequest    Permission = "listing:request"   // ask to launch a service into the catalog or remove it
	ApprovalReview    Permission = "approval:review"   // decide the project's requests (listing, subscription)
	SubscriptionRead  Permission = "subscription:read" // who subscribes to the project's services, and their usage
	LogRead           Permission = "log:read"          // the calls the gateways answered for the project (the call log)
	TestPublish       Permission = "group:test:publish"
	ProductionPublish Permission = "group:production:publish"
)

// Stages a gateway group can have for a project.
const (
	StageTest       = "test"
	StageProduction = "production"
)

// GroupPublish is the permission to change what runs in a group of the
// given stage.
func GroupPublish(stage string) Permission {
	return Permission("group:" + stage + ":publish")
}

// Stage is what group is for project: "test" only when it is the
// project's test group and not also its production group; every other
// group (production, shared, or one the project does not name) counts as
// production, because what runs there may serve real traffic.
func Stage(group, testGroup, productionGroup string) string {
	if group == testGroup && group != productionGroup {
		return StageTest
	}
	return StageProduction
}

// Baseline is what every signed-in, enabled user holds.
var Baseline = []Permission{SessionSelf, CatalogRead, GroupRead, RoleRead, ApplicationOwn, SubscriptionOwn, ApprovalOwn}

// System lists the permissions only the system scope grants.
var System = []Permission{UserRead, UserManage, RoleManage, ProjectCreate, ProjectDelete, GroupManage, GatewayManage, MarketManage}

// ProjectPermissions lists every permission a project role can hold, in
// the order documents show them; custom roles pick from it.
var ProjectPermissions = []Permission{
	ProjectRead, ProjectUpdate, MemberRead, MemberManage,
	UpstreamRead, UpstreamWrite, DataSourceRead, DataSourceWrite, FolderRead, FolderWrite,
	ServiceRead, ServiceWrite, ServicePublish, ServiceDebug, CanaryWrite,
	ConfigRead, ConfigWrite, PackageExport, PackageImport,
	ApplicationRead, ApplicationWrite, AuditRead, LockoutManage,
	ListingRequest, ApprovalReview, SubscriptionRead, LogRead,
	TestPublish, ProductionPublish,
}

// Built-in role names. SuperAdmin is a system role (a user's role);
// the others are given per project (a member's role). User is the system
// role of everybody else.
const (
	SuperAdmin   = "super_admin"
	User         = "user"
	ProjectAdmin = "project_admin"
	APIProvider  = "api_provider"
	Developer    = "developer"
	Viewer       = "viewer"
)

// SystemRoles are the values of a user's role.
var SystemRoles = []string{SuperAdmin, User}

// reads are the read permissions of a project, a viewer's role.
var reads = []Permission{ProjectRead, MemberRead, UpstreamRead, DataSourceRead, FolderRead, ServiceRead, ConfigRead, ApplicationRead, SubscriptionRead, LogRead}

// BuiltinRoles are the project roles every install has, with what they
// hold. project_admin holds everything of a project; api_provider designs,
// tests and publishes to the test stage; developer reads what a consumer
// needs; viewer reads.
var BuiltinRoles = map[string][]Permission{
	ProjectAdmin: ProjectPermissions,
	APIProvider: append(slices.Clone(reads),
		UpstreamWrite, DataSourceWrite, FolderWrite, ServiceWrite, ServicePublish, ServiceDebug, CanaryWrite,
		ConfigWrite, PackageExport, PackageImport, ApplicationWrite, ListingRequest, TestPublish),
	Developer: {ProjectRead, FolderRead, ServiceRead},
	Viewer:    reads,
}

// BuiltinProjectRoles lists the built-in project roles in a stable order.
var BuiltinProjectRoles = []string{ProjectAdmin, APIProvider, Developer, Viewer}

// IsBuiltin reports whether name is a built-in role (system or project).
func IsBuiltin(name string) bool {
	_, ok := BuiltinRoles[name]
	return ok || name == SuperAdmin || name == User
}

// Known reports whether p is a permission this package defines.
func Known(p Permission) bool {
	return slices.Contains(ProjectPermissions, p) || slices.Contains(System, p) || slices.Contains(Baseline, p)
}

// ValidCustom checks the permissions of a custom role: project permissions
// only, each once.
func ValidCustom(perms []Permission) error {
	seen := map[Permission]bool{}
	for _, p := range perms {
		if !slices.Contains(ProjectPermissions, p) {
			return fmt.Errorf("%q is not a project permission (one of %s)", p, Join(ProjectPermissions))
		}
		if seen[p] {
			return fmt.Errorf("%q is listed twice", p)
		}
		seen[p] = true
	}
	return nil
}

// Join lists permissions comma-separated.
func Join(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
