package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Sessions are a user's logins (store.TokenSession): the caller's own
// under /me/sessions, anyone's under /users/{username}/sessions.

func toSession(t store.Token, presented string) spec.Session {
	return spec.Session{ID: t.ID, Client: t.Client, UserAgent: t.UserAgent, Current: t.Hash == presented,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
}

// sessionsOf lists a user's live sessions, newest first; Current marks
// the one this request came with.
func (c *call) sessionsOf(tx store.Tx, u spec.User) (listResult, error) {
	toks, err := tx.ListTokens(c.ctx(), u.ID, store.TokenSession)
	if err != nil {
		return listResult{}, fmt.Errorf("list sessions of %q: %w", u.Username, err)
	}
	presented := c.presentedHash()
	out := make([]spec.Session, len(toks))
	for i, t := range toks {
		out[i] = toSession(t, presented)
	}
	return list(out, len(out)), nil
}

// endSession deletes one session of a user: whoever holds it is refused
// from the next request on.
func (c *call) endSession(tx store.Tx, u spec.User, id string) error {
	if err := tx.DeleteUserToken(c.ctx(), u.ID, store.TokenSession, id); err != nil {
		return onNotFound(err, "user %q has no session %q", u.Username, id)
	}
	return c.audit(tx, "session.end", userResource(u)+"/sessions/"+id, map[string]any{"username": u.Username})
}

func (c *call) listMySessions() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		var err error
		res, err = c.sessionsOf(tx, c.user)
		return err
	})
	return res, err
}

func (c *call) endMySession() (any, error) {
	return nil, c.tx(func(tx store.Tx) error { return c.endSession(tx, c.user, c.path("sid")) })
}

func (c *call) listUserSessions() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		res, err = c.sessionsOf(tx, u)
		return err
	})
	return res, err
}

func (c *call) endUserSession() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		return c.endSession(tx, u, c.path("sid"))
	})
}
