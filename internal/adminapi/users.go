package adminapi

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// userCreateRequest is what a client sends to make a user. Password and
// Invite are the two ways a user gets a password; with neither, the user
// has none until an administrator invites them or makes a reset link.
type userCreateRequest struct {
	Username    string `json:"username"`
	Role        string `json:"role,omitempty"` // default user
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Password    string `json:"password,omitempty"`
	Invite      bool   `json:"invite,omitempty"`
}

// userCreated is the new user, with the invitation link's token when one
// was asked for: the only time it is shown.
type userCreated struct {
	spec.User
	Invite *linkToken `json:"invite,omitempty"`
}

// userChange is what PATCH /users/{username} may change (a JSON merge
// patch onto the stored values).
type userChange struct {
	Role        string `json:"role"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Disabled    bool   `json:"disabled"`
}

const (
	maxDisplayName = 128
	maxEmail       = 254 // RFC 5321's limit on a path
)

func userResource(u spec.User) string { return "/users/" + u.ID }

// findUser reads a user by username or id, answering 404 naming ref.
func (c *call) findUser(tx store.Tx, ref string) (spec.User, error) {
	u, _, err := tx.UserByName(c.ctx(), ref)
	if errors.Is(err, store.ErrNotFound) {
		u, err = tx.GetUser(c.ctx(), ref)
	}
	return u, onNotFound(err, "user %q not found", ref)
}

// checkProfile validates a user's role, display name and email.
func checkProfile(fe *spec.FieldErrors, role, displayName, email string) {
	if role != rbac.SuperAdmin && role != rbac.User {
		fe.Add("role", "must be %s or %s", rbac.SuperAdmin, rbac.User)
	}
	switch {
	case utf8.RuneCountInString(displayName) > maxDisplayName:
		fe.Add("display_name", "must be at most %d characters", maxDisplayName)
	case !utf8.ValidString(displayName) || strings.ContainsFunc(displayName, unicode.IsControl):
		fe.Add("display_name", "must be UTF-8 without control characters")
	}
	if email == "" {
		return
	}
	// Only a bare address: "Name <a@b>" would put a second display name
	// where the console shows an address.
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxEmail {
		fe.Add("email", "must be an email address such as ada@example.com (at most %d bytes)", maxEmail)
	}
}

func (c *call) listUsers() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListUsers(c.ctx(), q)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getUser() (any, error) {
	var u spec.User
	err := c.view(func(tx store.Tx) error {
		var err error
		u, err = c.findUser(tx, c.path("username"))
		return err
	})
	return u, err
}

func (c *call) createUser() (any, error) {
	var req userCreateRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Role == "" {
		req.Role = rbac.User
	}
	var fe spec.FieldErrors
	if !spec.ValidUsername(req.Username) {
		fe.Add("username", "must be 1 to 64 letters, digits and . _ @ -, starting and ending with a letter or digit")
	}
	checkProfile(&fe, req.Role, req.DisplayName, req.Email)
	switch {
	case req.Password != "" && req.Invite:
		fe.Add("invite", "give password or invite, not both")
	case req.Password != "":
		passwordFieldErrors(&fe, "password", req.Username, req.Password)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	hash := ""
	if req.Password != "" {
		var err error
		if hash, err = HashPassword(req.Password); err != nil {
			return nil, fmt.Errorf("create user %q: %w", req.Username, err)
		}
	}
	res := userCreated{User: spec.User{Username: req.Username, Role: req.Role, DisplayName: req.DisplayName, Email: req.Email}}
	err := c.tx(func(tx store.Tx) error {
		if err := tx.CreateUser(c.ctx(), &res.User, hash); err != nil {
			return onConflict(err, "user %q already exists", req.Username)
		}
		detail := map[string]any{"username": res.Username, "role": res.Role, "display_name": res.DisplayName,
			"email": res.Email, "password_set": res.PasswordSet}
		if req.Invite {
			link, err := c.newLink(tx, res.ID, store.TokenInvite)
			if err != nil {
				return err
			}
			res.Invite = &link
			detail["invite_expires_at"] = link.ExpiresAt
		}
		return c.audit(tx, "user.create", userResource(res.User), detail)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// patchUser changes a user's role, profile or disabled flag. A disabled
// user's tokens are refused from the next request on (TokenByHash checks
// the flag); disabling also deletes their sessions and one-time links, so
// that enabling the account again revives only their personal access
// tokens, which were made to outlive a login.
func (c *call) patchUser() (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var u spec.User
	err = c.tx(func(tx store.Tx) error {
		var err error
		if u, err = c.findUser(tx, c.path("username")); err != nil {
			return err
		}
		old := userChange{Role: u.Role, DisplayName: u.DisplayName, Email: u.Email, Disabled: u.Disabled}
		ch, err := decodeUpdate(body, true, old)
		if err != nil {
			return err
		}
		var fe spec.FieldErrors
		checkProfile(&fe, ch.Role, ch.DisplayName, ch.Email)
		if err := fe.Err(); err != nil {
			return err
		}
		if ch.Disabled && !u.Disabled && u.ID == c.user.ID {
			return withDetail(store.ErrConflict, "you cannot disable yourself")
		}
		if u.Role == rbac.SuperAdmin && !u.Disabled && (ch.Role != rbac.SuperAdmin || ch.Disabled) {
			if err := c.keepASuperAdmin(tx, u, "disable or demote"); err != nil {
				return err
			}
		}
		detail := map[string]any{"username": u.Username}
		for _, f := range []struct {
			name     string
			old, new any
		}{{"role", old.Role, ch.Role}, {"display_name", old.DisplayName, ch.DisplayName},
			{"email", old.Email, ch.Email}, {"disabled", old.Disabled, ch.Disabled}} {
			if f.old != f.new {
				detail[f.name] = map[string]any{"from": f.old, "to": f.new}
			}
		}
		u.Role, u.DisplayName, u.Email, u.Disabled = ch.Role, ch.DisplayName, ch.Email, ch.Disabled
		if err := tx.UpdateUser(c.ctx(), &u); err != nil {
			return fmt.Errorf("update user %q: %w", u.Username, err)
		}
		if ch.Disabled && !old.Disabled {
			n, err := tx.DeleteUserTokens(c.ctx(), u.ID, store.TokenSession, store.TokenInvite, store.TokenReset)
			if err != nil {
				return fmt.Errorf("disable user %q: %w", u.Username, err)
			}
			detail["sessions_ended"] = n
		}
		if ch.Disabled != old.Disabled {
			// The user's own applications leave the gateways while the user
			// is disabled (the consumers' query leaves them out).
			if err := c.commitOwnApplications(tx, u, "user disabled or enabled"); err != nil {
				return err
			}
		}
		return c.audit(tx, "user.update", userResource(u), detail)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// commitOwnApplications hands the change of a user who owns applications
// to the gateways; a user without any changes nothing there.
func (c *call) commitOwnApplications(tx store.Tx, u spec.User, what string) error {
	_, total, err := tx.ListApplications(c.ctx(), store.ApplicationFilter{Owner: u.ID}, store.ListQuery{PageSize: 1})
	if err != nil {
		return fmt.Errorf("applications of user %q: %w", u.Username, err)
	}
	if total == 0 {
		return nil
	}
	return c.commitConsumers(tx, what, userResource(u))
}

// keepASuperAdmin refuses (409) to take away u, an enabled super_admin,
// when no other enabled one is left: nobody could manage users any more.
func (c *call) keepASuperAdmin(tx store.Tx, u spec.User, what string) error {
	n, err := tx.CountActiveSuperAdmins(c.ctx())
	if err != nil {
		return fmt.Errorf("%s user %q: %w", what, u.Username, err)
	}
	if n <= 1 {
		return withDetail(store.ErrConflict, "user %q is the last enabled %s: make another one first", u.Username, rbac.SuperAdmin)
	}
	return nil
}

// deleteUser deletes a user with their tokens and memberships.
func (c *call) deleteUser() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		if u.ID == c.user.ID {
			return withDetail(store.ErrConflict, "you cannot delete yourself")
		}
		if u.Role == rbac.SuperAdmin && !u.Disabled {
			if err := c.keepASuperAdmin(tx, u, "delete"); err != nil {
				return err
			}
		}
		// The user's own applications go with them: their credentials
		// would otherwise keep authenticating at the gateways.
		apps, err := store.All(func(q store.ListQuery) ([]spec.Application, int, error) {
			return tx.ListApplications(c.ctx(), store.ApplicationFilter{Owner: u.ID}, q)
		})
		if err != nil {
			return fmt.Errorf("delete user %q: %w", u.Username, err)
		}
		owned := 0
		for _, a := range apps {
			if a.ProjectID != "" {
				continue // a project's application stays with its project
			}
			if err := tx.DeleteApplication(c.ctx(), a.ID); err != nil {
				return fmt.Errorf("delete user %q: application %s: %w", u.Username, a.ID, err)
			}
			owned++
		}
		if err := tx.DeleteUser(c.ctx(), u.ID); err != nil {
			return fmt.Errorf("delete user %q: %w", u.Username, err)
		}
		if owned > 0 {
			if err := c.commitConsumers(tx, "user deleted with their applications", userResource(u)); err != nil {
				return err
			}
		}
		return c.audit(tx, "user.delete", userResource(u), map[string]any{"username": u.Username, "role": u.Role})
	})
}
