package spec

import (
	"regexp"
	"time"
)

// User is a person or robot that calls the admin API. Role is the system
// role: "super_admin" (every permission) or "user" (what project
// memberships give). Source says where the account comes from: "local"
// (a password set here) or "oidc" (an OpenID provider's login).
type User struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	Role        string    `json:"role"`
	DisplayName string    `json:"display_name,omitempty"`
	Email       string    `json:"email,omitempty"`
	Disabled    bool      `json:"disabled"`
	Source      string    `json:"source"`
	PasswordSet bool      `json:"password_set"`
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// User sources.
const (
	UserLocal = "local"
	UserOIDC  = "oidc"
)

// Identity is GET /me's answer: the caller with what they may do (the
// console shows and hides its pages by it; scripts check before they try).
type Identity struct {
	User
	// Scope is the presented token's: "full", or "read" for a read-only
	// personal access token.
	Scope string `json:"scope"`
	// Permissions are held everywhere: the baseline of every user, and
	// every permission for a super_admin.
	Permissions []string `json:"permissions"`
	// Projects are the caller's memberships with what each role holds.
	Projects []ProjectGrant `json:"projects"`
}

// ProjectGrant is a role in one project and its permissions.
type ProjectGrant struct {
	Project     string   `json:"project"`
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
}

// Member is a user's role in a project: a built-in project role
// (project_admin, api_provider, developer, viewer) or a custom role.
type Member struct {
	Project   string    `json:"project"`
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Role is a named set of permissions ("resource:action"). Built-in roles
// are listed with Builtin set and cannot be changed; custom roles hold
// project permissions and are given per project through membership.
type Role struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Permissions []string  `json:"permissions"`
	Builtin     bool      `json:"builtin"`
	Scope       string    `json:"scope"` // "system" or "project"
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// AccessToken is a personal access token: a user's bearer token for
// scripts and portico ctl. Scope "read" may only read; "full" may do what
// the user may. Token is set only in the answer that creates it.
type AccessToken struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Scope      string    `json:"scope"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	Token      string    `json:"token,omitempty"`
}

// Token scopes.
const (
	ScopeRead = "read"
	ScopeFull = "full"
)

// Session is one login of a user (the console's cookie or a token from
// POST /auth/login).
type Session struct {
	ID         string    `json:"id"`
	Client     string    `json:"client,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Current    bool      `json:"current"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at"`
	CreatedAt  time.Time `json:"created_at"`
}

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$`)

// ValidUsername reports whether s can name a user: 1–64 letters, digits
// and . _ @ -, starting and ending with a letter or digit.
func ValidUsername(s string) bool { return usernameRe.MatchString(s) }

var roleNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidRoleName reports whether s can name a custom role.
func ValidRoleName(s string) bool { return roleNameRe.MatchString(s) }
