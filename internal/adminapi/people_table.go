package adminapi

import (
	"net/http"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

// peopleEndpoints are the rows of users, personal access tokens,
// sessions, project members, roles and lockouts (appended to the table).
func (s *server) peopleEndpoints() []endpoint {
	const (
		U  = "/users/{username}"
		M  = "/projects/{p}/members"
		ok = http.StatusOK
		cr = http.StatusCreated
		nc = http.StatusNoContent
	)
	return []endpoint{
		{method: "POST", path: "/auth/accept", tag: "session", summary: "Set a password through a one-time invitation or reset link (no login needed); the user's sessions end; an unknown, used or expired link is 401 and counts as a failed login of the client address", req: acceptRequest{}, resp: spec.User{}, status: ok, public: true, handle: (*call).acceptLink},
		{method: "GET", path: "/lockouts", tag: "session", perm: rbac.LockoutManage, anyProject: true, summary: "Usernames locked out now by failed logins (a super_admin sees every one; others those of members of projects where they hold lockout:manage)", resp: lockout{}, list: true, status: ok, handle: (*call).listLockouts},

		{method: "GET", path: "/users", tag: "users", perm: rbac.UserRead, summary: "List users", resp: spec.User{}, list: true, query: listParams, search: "username, display name or email", status: ok, handle: (*call).listUsers},
		{method: "POST", path: "/users", tag: "users", perm: rbac.UserManage, summary: "Create a user: with password (checked against the password policy), with invite (the answer holds a one-time invitation link's token, shown once, valid 7 days), or neither (no password until invited or reset)", req: userCreateRequest{}, resp: userCreated{}, status: cr, handle: (*call).createUser},
		{method: "GET", path: U, tag: "users", perm: rbac.UserRead, summary: "Get a user (by username or id)", resp: spec.User{}, status: ok, handle: (*call).getUser},
		{method: "PATCH", path: U, tag: "users", perm: rbac.UserManage, summary: "Change a user's role, display name, email or disabled (JSON merge patch); disabling ends their sessions and refuses their tokens at once; the last enabled super_admin cannot be disabled or demoted, nor can you disable yourself (409)", req: userChange{}, resp: spec.User{}, status: ok, handle: (*call).patchUser},
		{method: "DELETE", path: U, tag: "users", perm: rbac.UserManage, summary: "Delete a user with their tokens and memberships; not yourself, not the last enabled super_admin (409)", status: nc, handle: (*call).deleteUser},
		{method: "POST", path: U + "/invite", tag: "users", perm: rbac.UserManage, summary: "Make a new invitation link for a user without a password (earlier ones stop working); the answer holds its token, shown once, valid 7 days", resp: linkToken{}, status: cr, handle: (*call).inviteUser},
		{method: "POST", path: U + "/password", tag: "users", perm: rbac.UserManage, summary: "With password: set it (checked against the password policy), ending the user's sessions and links; without (empty body or {}): make a one-time reset link, valid 24 hours, whose token the answer shows once", req: passwordSetRequest{}, resp: passwordResult{}, status: ok, handle: (*call).setUserPassword},
		{method: "GET", path: U + "/sessions", tag: "users", perm: rbac.UserRead, summary: "A user's sessions (logins), newest first", resp: spec.Session{}, list: true, status: ok, handle: (*call).listUserSessions},
		{method: "DELETE", path: U + "/sessions/{sid}", tag: "users", perm: rbac.UserManage, summary: "End one of a user's sessions: it is refused from the next request on", status: nc, handle: (*call).endUserSession},
		{method: "GET", path: U + "/tokens", tag: "users", perm: rbac.UserRead, summary: "A user's personal access tokens, newest first (never the token text)", resp: spec.AccessToken{}, list: true, status: ok, handle: (*call).listUserTokens},
		{method: "DELETE", path: U + "/tokens/{t}", tag: "users", perm: rbac.UserManage, summary: "Revoke one of a user's personal access tokens: it is refused from the next request on", status: nc, handle: (*call).revokeUserToken},

		{method: "POST", path: "/me/password", tag: "account", perm: rbac.SessionSelf, summary: "Change your password: current_password is checked like a login's (a wrong one counts toward the lockout), new_password against the password policy; your other sessions end, the one presented stays", req: passwordChange{}, resp: passwordResult{}, status: ok, handle: (*call).changeOwnPassword},
		{method: "GET", path: "/me/sessions", tag: "account", perm: rbac.SessionSelf, summary: "Your sessions (logins), newest first; current marks the one presented", resp: spec.Session{}, list: true, status: ok, handle: (*call).listMySessions},
		{method: "DELETE", path: "/me/sessions/{sid}", tag: "account", perm: rbac.SessionSelf, summary: "End one of your sessions (the one presented too: that is a logout)", status: nc, handle: (*call).endMySession},
		{method: "GET", path: "/tokens", tag: "account", perm: rbac.SessionSelf, summary: "Your personal access tokens, newest first (never the token text)", resp: spec.AccessToken{}, list: true, status: ok, handle: (*call).listMyTokens},
		{method: "POST", path: "/tokens", tag: "account", perm: rbac.SessionSelf, summary: "Make a personal access token: scope read (may only read) or full (may do what you may), expiring after expires_in_days (1–366, default 90); the answer holds the token, the only time it is shown", req: accessTokenRequest{}, resp: spec.AccessToken{}, status: cr, handle: (*call).createMyToken},
		{method: "GET", path: "/tokens/{t}", tag: "account", perm: rbac.SessionSelf, summary: "Get one of your personal access tokens (never the token text)", resp: spec.AccessToken{}, status: ok, handle: (*call).getMyToken},
		{method: "DELETE", path: "/tokens/{t}", tag: "account", perm: rbac.SessionSelf, summary: "Revoke one of your personal access tokens: it is refused from the next request on", status: nc, handle: (*call).revokeMyToken},

		{method: "GET", path: M, tag: "members", perm: rbac.MemberRead, summary: "The project's members with their roles", resp: spec.Member{}, list: true, status: ok, handle: (*call).listMembers},
		{method: "PUT", path: M + "/{member}", tag: "members", perm: rbac.MemberManage, summary: "Give a user (by username) a role in the project: a built-in project role or a custom role; you can give or take only roles whose permissions you hold, and the last project_admin stays one unless a super_admin changes it (409)", req: memberRequest{}, resp: spec.Member{}, status: ok, handle: (*call).putMember},
		{method: "DELETE", path: M + "/{member}", tag: "members", perm: rbac.MemberManage, summary: "Remove a member from the project; the last project_admin stays unless a super_admin removes them (409)", status: nc, handle: (*call).deleteMember},

		{method: "GET", path: "/roles", tag: "roles", perm: rbac.RoleRead, summary: "Roles with their permissions: the built-in ones (system roles super_admin and user, then the project roles), then custom project roles", resp: spec.Role{}, list: true, status: ok, handle: (*call).listRoles},
		{method: "POST", path: "/roles", tag: "roles", perm: rbac.RoleManage, summary: "Create a custom project role: a name and project permissions, given to members like a built-in project role", req: roleCreate{}, resp: spec.Role{}, status: cr, handle: (*call).createRole},
		{method: "GET", path: "/roles/{role}", tag: "roles", perm: rbac.RoleRead, summary: "Get a role, built-in or custom", resp: spec.Role{}, status: ok, handle: (*call).getRole},
		{method: "PUT", path: "/roles/{role}", tag: "roles", perm: rbac.RoleManage, summary: "Replace a custom role's description and permissions (members holding it hold the new ones from their next request on); built-in roles cannot be changed (409)", req: roleUpdate{}, resp: spec.Role{}, status: ok, handle: (*call).putRole},
		{method: "DELETE", path: "/roles/{role}", tag: "roles", perm: rbac.RoleManage, summary: "Delete a custom role no member holds (409 with the count otherwise); built-in roles cannot be deleted", status: nc, handle: (*call).deleteRole},
	}
}
