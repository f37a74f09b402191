package adminapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// One-time links set a password: an invitation for a new user (7 days,
// time to read one's mail) and a reset for a user who lost theirs (24
// hours: it replaces a password that works). Only their SHA-256 is stored,
// and a link works once (store.TakeLinkToken).
const (
	inviteTTL = 7 * 24 * time.Hour
	resetTTL  = 24 * time.Hour
)

// linkToken is a one-time link's token, shown once, in the answer that
// makes it; the console builds the link around it.
type linkToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// passwordSetRequest is the body of POST /users/{username}/password.
type passwordSetRequest struct {
	Password string `json:"password,omitempty"`
}

// passwordResult answers a password change: how many sessions it ended,
// or, for a reset link, the link's token (shown once) and expiry.
type passwordResult struct {
	Username      string    `json:"username"`
	SessionsEnded int       `json:"sessions_ended"`
	Token         string    `json:"token,omitempty"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
}

// acceptRequest takes an invitation or reset link with the new password.
type acceptRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// newLink makes a one-time link of kind for a user; the user's earlier
// links of that kind stop working, so only the latest one sent counts.
func (c *call) newLink(tx store.Tx, userID, kind string) (linkToken, error) {
	ttl := inviteTTL
	if kind == store.TokenReset {
		ttl = resetTTL
	}
	if _, err := tx.DeleteUserTokens(c.ctx(), userID, kind); err != nil {
		return linkToken{}, fmt.Errorf("new %s link: %w", kind, err)
	}
	raw := rand.Text()
	t := &store.Token{UserID: userID, Hash: tokenHash(raw), Name: kind, Kind: kind, ExpiresAt: c.s.now().Add(ttl),
		Client: clientAddr(c.r), UserAgent: userAgent(c.r)}
	if err := tx.CreateToken(c.ctx(), t); err != nil {
		return linkToken{}, fmt.Errorf("new %s link: %w", kind, err)
	}
	return linkToken{Token: raw, ExpiresAt: t.ExpiresAt}, nil
}

// localAccount refuses (409) a password for a user who has none to set
// here: one who signs in through the OpenID provider, or is disabled.
func localAccount(u spec.User) error {
	switch {
	case u.Source != spec.UserLocal:
		return withDetail(store.ErrConflict, "user %q signs in through the OpenID provider and has no password here", u.Username)
	case u.Disabled:
		return withDetail(store.ErrConflict, "user %q is disabled: enable them first", u.Username)
	}
	return nil
}

// inviteUser makes a new invitation link for a user without a password.
// One with a password gets a reset link instead (POST …/password), which
// lives a day rather than a week.
func (c *call) inviteUser() (any, error) {
	var link linkToken
	err := c.tx(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		if err := localAccount(u); err != nil {
			return err
		}
		if u.PasswordSet {
			return withDetail(store.ErrConflict, "user %q already has a password: make a reset link with POST /users/%s/password", u.Username, u.Username)
		}
		if link, err = c.newLink(tx, u.ID, store.TokenInvite); err != nil {
			return err
		}
		return c.audit(tx, "user.invite", userResource(u), map[string]any{"username": u.Username, "expires_at": link.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return link, nil
}

// setUserPassword sets a user's password (ending their sessions but the
// caller's own, and their pending links), or without one in the body
// makes a reset link. An empty body is a reset, like {}.
func (c *call) setUserPassword() (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var req passwordSetRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := strictDecode(body, &req); err != nil {
			return nil, err
		}
	}
	if req.Password == "" {
		return c.resetLink()
	}
	var u spec.User
	if err := c.view(func(tx store.Tx) error {
		u, err = c.findUser(tx, c.path("username"))
		return err
	}); err != nil {
		return nil, err
	}
	if err := localAccount(u); err != nil {
		return nil, err
	}
	if err := checkPasswordPolicy("password", u.Username, req.Password); err != nil {
		return nil, err
	}
	// Hashed outside the transaction: bcrypt takes tens of milliseconds
	// that the store's write lock need not wait for.
	hash, err := HashPassword(req.Password)
	if err != nil {
		return nil, fmt.Errorf("set password of %q: %w", u.Username, err)
	}
	res := passwordResult{Username: u.Username}
	err = c.tx(func(tx store.Tx) error {
		// Read again: the user may have been renamed, disabled or deleted meanwhile.
		cur, err := tx.GetUser(c.ctx(), u.ID)
		if err != nil {
			return onNotFound(err, "user %q not found", u.Username)
		}
		if err := localAccount(cur); err != nil {
			return err
		}
		if err := tx.SetPassword(c.ctx(), u.ID, hash); err != nil {
			return fmt.Errorf("set password of %q: %w", u.Username, err)
		}
		keep := ""
		if u.ID == c.user.ID {
			keep = c.presentedHash()
		}
		if res.SessionsEnded, err = endSessions(c, tx, u.ID, keep); err != nil {
			return err
		}
		if _, err := tx.DeleteUserTokens(c.ctx(), u.ID, store.TokenInvite, store.TokenReset); err != nil {
			return fmt.Errorf("set password of %q: %w", u.Username, err)
		}
		return c.audit(tx, "user.password_set", userResource(u), map[string]any{"username": u.Username, "sessions_ended": res.SessionsEnded})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// resetLink makes a reset link for the user of the path; their password
// keeps working until the link is used.
func (c *call) resetLink() (any, error) {
	var res passwordResult
	err := c.tx(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		if err := localAccount(u); err != nil {
			return err
		}
		link, err := c.newLink(tx, u.ID, store.TokenReset)
		if err != nil {
			return err
		}
		res = passwordResult{Username: u.Username, Token: link.Token, ExpiresAt: link.ExpiresAt}
		return c.audit(tx, "user.reset_link", userResource(u), map[string]any{"username": u.Username, "expires_at": link.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// presentedHash is what the store keeps of the token this request came
// with, "" for none.
func (c *call) presentedHash() string {
	raw, err := requestToken(c.r)
	if err != nil {
		return ""
	}
	return tokenHash(raw)
}

// endSessions deletes a user's sessions but the one whose hash is keep
// ("" keeps none), and answers how many went.
func endSessions(c *call, tx store.Tx, userID, keep string) (int, error) {
	if keep == "" {
		n, err := tx.DeleteUserTokens(c.ctx(), userID, store.TokenSession)
		if err != nil {
			return 0, fmt.Errorf("end sessions of user %s: %w", userID, err)
		}
		return n, nil
	}
	sessions, err := tx.ListTokens(c.ctx(), userID, store.TokenSession)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %s: %w", userID, err)
	}
	n := 0
	for _, s := range sessions {
		if s.Hash == keep {
			continue
		}
		if err := tx.DeleteUserToken(c.ctx(), userID, store.TokenSession, s.ID); err != nil {
			return 0, fmt.Errorf("end session %s of user %s: %w", s.ID, userID, err)
		}
		n++
	}
	return n, nil
}

// errUnknownLink is the one answer to a link that is unknown, used or
// expired: which of them is not said.
var errUnknownLink = withDetail(errUnauthorized, "the link is unknown, used or expired")

// acceptLink sets a password through an invitation or reset link. It
// needs no login, so an unknown token counts as a failed login of the
// client address: guessing links is locked out like guessing passwords.
func (c *call) acceptLink() (any, error) {
	var req acceptRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	if req.Token == "" {
		fe.Add("token", "is required")
	}
	if req.Password == "" {
		fe.Add("password", "is required")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	s, client := c.s, clientAddr(c.r)
	if until := s.clients.lockedUntil(client, s.now()); !until.IsZero() {
		return nil, lockedOut(until, s.now())
	}
	var u spec.User
	// One transaction, bcrypt included: a password the policy refuses
	// rolls the take back, so the link still works for a better one.
	err := c.tx(func(tx store.Tx) error {
		hash := tokenHash(req.Token)
		kind, action := store.TokenInvite, "user.invite_accept"
		tok, err := tx.TakeLinkToken(c.ctx(), hash, kind)
		if errors.Is(err, store.ErrNotFound) {
			kind, action = store.TokenReset, "user.password_reset"
			tok, err = tx.TakeLinkToken(c.ctx(), hash, kind)
		}
		if err != nil {
			return fmt.Errorf("accept link: %w", err)
		}
		if u, err = tx.GetUser(c.ctx(), tok.UserID); err != nil {
			return fmt.Errorf("accept %s link: %w", kind, err)
		}
		if u.Disabled {
			return withDetail(errForbidden, "the account %q is disabled", u.Username)
		}
		if err := checkPasswordPolicy("password", u.Username, req.Password); err != nil {
			return err
		}
		pw, err := HashPassword(req.Password)
		if err != nil {
			return fmt.Errorf("accept %s link of %q: %w", kind, u.Username, err)
		}
		if err := tx.SetPassword(c.ctx(), u.ID, pw); err != nil {
			return fmt.Errorf("accept %s link of %q: %w", kind, u.Username, err)
		}
		// Every session goes: whoever held one before the reset may be
		// the reason for it. Other links go too; the password is set.
		n, err := tx.DeleteUserTokens(c.ctx(), u.ID, store.TokenSession, store.TokenInvite, store.TokenReset)
		if err != nil {
			return fmt.Errorf("accept %s link of %q: %w", kind, u.Username, err)
		}
		if u, err = tx.GetUser(c.ctx(), u.ID); err != nil {
			return fmt.Errorf("accept %s link: %w", kind, err)
		}
		c.user = u // the actor of the event
		return c.audit(tx, action, userResource(u), map[string]any{"username": u.Username, "client": client, "sessions_ended": n})
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, c.acceptFailed(client)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// acceptFailed records an unknown link as a failed login of the client
// address, audits it (and a lockout it starts) and answers the 401.
func (c *call) acceptFailed(client string) error {
	s, now := c.s, c.s.now()
	lock, locked := s.clients.fail(client, now)
	s.log.Warn("unknown one-time link presented", "client", client)
	err := c.tx(func(tx store.Tx) error {
		resource := "/clients/" + client
		if err := c.auditAnon(tx, "auth.accept_failed", resource, map[string]any{"client": client}); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		s.log.Warn("client locked out after failed logins", "client", client, "for", lock.String(), "until", now.Add(lock))
		return c.auditAnon(tx, "auth.lockout", resource, map[string]any{"client": client,
			"locked_until": now.Add(lock), "seconds": int(lock / time.Second)})
	})
	if err != nil {
		return err
	}
	return errUnknownLink
}
