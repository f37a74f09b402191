package adminclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Me is GET /me: the caller, the scope of the token presented, the
// permissions held everywhere and the project memberships.
type Me = spec.Identity

// Me asks who the client's token belongs to: it checks a token before
// it is kept.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var me Me
	if err := c.Get(ctx, "/me", nil, &me); err != nil {
		return me, fmt.Errorf("who am I: %w", err)
	}
	return me, nil
}

// Delete is Do for a DELETE without an answer.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.Do(ctx, Request{Method: http.MethodDelete, Path: path})
}

// all reads every page of a list.
func all[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var out []T
	for page := 1; ; page++ {
		v := url.Values{"page": {strconv.Itoa(page)}, "page_size": {"500"}}
		for k, vs := range q {
			v[k] = vs
		}
		var l List[T]
		if err := c.Get(ctx, path, v, &l); err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if len(l.Items) == 0 || len(out) >= l.Total {
			return out, nil
		}
	}
}

// Users lists the users whose username, display name or email contains
// search ("" for all).
func (c *Client) Users(ctx context.Context, search string) ([]spec.User, error) {
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	us, err := all[spec.User](ctx, c, "/users", q)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// NewUser is what CreateUser sends: Password, or Invite for a one-time
// link the user opens to choose one (or neither: no password yet).
type NewUser struct {
	Username    string `json:"username"`
	Role        string `json:"role,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Password    string `json:"password,omitempty"`
	Invite      bool   `json:"invite,omitempty"`
}

// LinkToken is a one-time invitation or reset link's token, shown once.
type LinkToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreatedUser is the new user, with the invitation when one was asked for.
type CreatedUser struct {
	spec.User
	Invite *LinkToken `json:"invite,omitempty"`
}

// CreateUser makes a user.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (CreatedUser, error) {
	var out CreatedUser
	if err := c.Post(ctx, "/users", u, &out); err != nil {
		return out, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return out, nil
}

// SetUserDisabled disables (ending their sessions) or enables a user.
func (c *Client) SetUserDisabled(ctx context.Context, username string, disabled bool) (spec.User, error) {
	var out spec.User
	if err := c.Patch(ctx, "/users/"+url.PathEscape(username), map[string]bool{"disabled": disabled}, &out); err != nil {
		return out, fmt.Errorf("change user %s: %w", username, err)
	}
	return out, nil
}

// Tokens lists the caller's personal access tokens (never their text).
func (c *Client) Tokens(ctx context.Context) ([]spec.AccessToken, error) {
	// The server answers every token at once: a user has a few.
	var l List[spec.AccessToken]
	if err := c.Get(ctx, "/tokens", nil, &l); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return l.Items, nil
}

// CreateToken makes a personal access token of the caller: scope "read"
// or "full", expiring after days (0: the server's default). Its Token is
// the text, shown this once.
func (c *Client) CreateToken(ctx context.Context, name, scope string, days int) (spec.AccessToken, error) {
	body := map[string]any{"name": name, "scope": scope}
	if days != 0 {
		body["expires_in_days"] = days
	}
	var out spec.AccessToken
	if err := c.Post(ctx, "/tokens", body, &out); err != nil {
		return out, fmt.Errorf("create token %s: %w", name, err)
	}
	return out, nil
}

// RevokeToken revokes one of the caller's tokens by id.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	if err := c.Delete(ctx, "/tokens/"+url.PathEscape(id)); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

func membersPath(project string) string { return "/projects/" + url.PathEscape(project) + "/members" }

// Members lists a project's members with their roles.
func (c *Client) Members(ctx context.Context, project string) ([]spec.Member, error) {
	var l List[spec.Member]
	if err := c.Get(ctx, membersPath(project), nil, &l); err != nil {
		return nil, fmt.Errorf("list members of %s: %w", project, err)
	}
	return l.Items, nil
}

// SetMember gives a user a role in a project, adding them if need be.
func (c *Client) SetMember(ctx context.Context, project, username, role string) (spec.Member, error) {
	var out spec.Member
	req := Request{Method: http.MethodPut, Path: membersPath(project) + "/" + url.PathEscape(username), Body: map[string]string{"role": role}, Out: &out}
	if err := c.Do(ctx, req); err != nil {
		return out, fmt.Errorf("make %s %s of %s: %w", username, role, project, err)
	}
	return out, nil
}

// RemoveMember takes a user out of a project.
func (c *Client) RemoveMember(ctx context.Context, project, username string) error {
	if err := c.Delete(ctx, membersPath(project)+"/"+url.PathEscape(username)); err != nil {
		return fmt.Errorf("remove %s from %s: %w", username, project, err)
	}
	return nil
}
