package adminapi

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      spec.User `json:"user"`
}

// checkPassword is CheckPassword; tests count its calls.
var checkPassword = CheckPassword

// maxUsername bounds a username taken into the failed-login records.
const maxUsername = 256

// login checks a password under two throttles (lockPolicy): per username
// (kept in the store, so it survives a restart) and per client address (in
// memory). A locked attempt is refused with 429 before any bcrypt runs, so
// it costs the server almost nothing and tells nothing.
func (c *call) login() (any, error) {
	var req loginRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	if req.Username == "" {
		fe.Add("username", "is required")
	} else if len(req.Username) > maxUsername {
		fe.Add("username", "is longer than %d bytes", maxUsername)
	}
	if req.Password == "" {
		fe.Add("password", "is required")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	s, client := c.s, clientAddr(c.r)
	// Checked before waiting for a bcrypt slot, so that a locked attempt
	// costs nothing, and again in the slot, so that a burst sent before the
	// lockout was recorded does not get its guesses checked.
	if _, _, _, err := c.loginCheck(req.Username, client, s.now(), false); err != nil {
		return nil, err
	}
	var (
		u     spec.User
		known bool
		ok    bool
		now   time.Time
		err   error
	)
	serr := s.hashSlots.do(c.ctx(), func() {
		now = s.now()
		var hash string
		if u, hash, known, err = c.loginCheck(req.Username, client, now, true); err != nil {
			return
		}
		if !known {
			// Compare anyway: an unknown user must cost as much as a wrong password.
			hash = s.dummyHash
		}
		ok = checkPassword(hash, req.Password) && known
		if !ok {
			// Recorded before the slot is freed, so that the next attempt
			// waiting for it sees this failure.
			err = c.loginFailed(req.Username, client, now)
		}
	})
	if serr != nil {
		return nil, fmt.Errorf("login %q: waiting to check the password: %w", req.Username, serr)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		// Said only to whoever knows the password.
		return nil, withDetail(errForbidden, "the account %q is disabled", u.Username)
	}
	var resp loginResponse
	err = c.tx(func(tx store.Tx) error {
		if err := tx.DeleteLoginState(c.ctx(), req.Username); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("login %q: reset failures: %w", req.Username, err)
		}
		tok := rand.Text()
		t := &store.Token{ID: newID(), UserID: u.ID, Hash: tokenHash(tok), Name: "session", Kind: store.TokenSession,
			ExpiresAt: now.Add(s.ttl), CreatedAt: now, Client: client, UserAgent: userAgent(c.r)}
		if err := tx.CreateToken(c.ctx(), t); err != nil {
			return fmt.Errorf("login %q: create token: %w", req.Username, err)
		}
		if err := tx.TouchLogin(c.ctx(), u.ID, now); err != nil {
			return fmt.Errorf("login %q: %w", req.Username, err)
		}
		u.LastLoginAt = now
		c.user = u
		resp = loginResponse{Token: tok, ExpiresAt: t.ExpiresAt, User: u}
		return c.audit(tx, "auth.login", "/users/"+u.ID, map[string]string{"username": u.Username, "client": client})
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// loginCheck refuses a locked client or username (429) and, with lookup,
// answers the user and its password hash, known false when there is none.
func (c *call) loginCheck(username, client string, now time.Time, lookup bool) (u spec.User, hash string, known bool, err error) {
	s := c.s
	if until := s.clients.lockedUntil(client, now); !until.IsZero() {
		s.log.Warn("login refused: client locked out", "username", username, "client", client, "until", until)
		return u, "", false, lockedOut(until, now)
	}
	err = c.tx(func(tx store.Tx) error {
		st, err := tx.GetLoginState(c.ctx(), username)
		switch {
		case err == nil && st.LockedUntil.After(now):
			s.log.Warn("login refused: user locked out", "username", username, "client", client, "until", st.LockedUntil)
			return lockedOut(st.LockedUntil, now)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("login %q: %w", username, err)
		}
		if !lookup {
			return nil
		}
		u, hash, err = tx.UserByName(c.ctx(), username)
		switch {
		case err == nil:
			known = true
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("login %q: %w", username, err)
		}
		return nil
	})
	return u, hash, known, err
}

// loginFailed records a failed login for the username and the client,
// audits it (and a lockout it starts) and answers the 401.
func (c *call) loginFailed(username, client string, now time.Time) error {
	s := c.s
	clientLock, clientLocked := s.clients.fail(client, now)
	err := c.tx(func(tx store.Tx) error {
		st, err := tx.GetLoginState(c.ctx(), username)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("login %q: %w", username, err)
		}
		st.Username = username
		userLock, userLocked := userPolicy.fail(&st, now)
		if err := tx.PutLoginState(c.ctx(), &st); err != nil {
			return fmt.Errorf("login %q: %w", username, err)
		}
		if s.pruneDue(now) {
			if _, err := tx.PruneLoginStates(c.ctx(), now.Add(-userPolicy.window)); err != nil {
				return fmt.Errorf("login %q: %w", username, err)
			}
		}
		resource := "/users/" + username
		s.log.Warn("login failed", "username", username, "client", client, "failures", st.Failures)
		if err := c.auditAnon(tx, "auth.login_failed", resource, map[string]any{
			"username": username, "client": client, "failures": st.Failures}); err != nil {
			return err
		}
		if userLocked {
			s.log.Warn("user locked out after failed logins", "username", username, "client", client,
				"failures", st.Failures, "for", userLock.String(), "until", st.LockedUntil)
			if err := c.auditAnon(tx, "auth.lockout", resource, map[string]any{"username": username, "client": client,
				"failures": st.Failures, "locked_until": st.LockedUntil, "seconds": int(userLock / time.Second)}); err != nil {
				return err
			}
		}
		if clientLocked {
			s.log.Warn("client locked out after failed logins", "client", client, "username", username,
				"for", clientLock.String(), "until", now.Add(clientLock))
			if err := c.auditAnon(tx, "auth.lockout", "/clients/"+client, map[string]any{"client": client,
				"username": username, "locked_until": now.Add(clientLock), "seconds": int(clientLock / time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return withDetail(errUnauthorized, "wrong username or password")
}

// auditAnon records an event of an unauthenticated caller; the actor names
// that nobody was logged in.
func (c *call) auditAnon(tx store.Tx, action, resource string, detail any) error {
	saved := c.user
	c.user = spec.User{Username: "anonymous"}
	defer func() { c.user = saved }()
	return c.audit(tx, action, resource, detail)
}

// lockedOut is the 429 of a locked username or client.
func lockedOut(until, now time.Time) error {
	wait := until.Sub(now)
	return &tooMany{retryAfter: wait, detail: fmt.Sprintf(
		"too many failed logins: try again in %d seconds, or ask an administrator to unlock the user", retryAfterSeconds(wait))}
}

// pruneDue answers true at most once a minute: forgetting quiet records
// is housekeeping, not needed on every failure.
func (s *server) pruneDue(now time.Time) bool {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if now.Sub(s.lastPrune) < time.Minute {
		return false
	}
	s.lastPrune = now
	return true
}

type unlockResult struct {
	Username    string    `json:"username"`
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until"`
}

// unlockUser forgets a username's failed logins, lifting its lockout. A
// super_admin may unlock any username (lockouts apply to unknown names
// too); anyone else the members of a project where they hold
// lockout:manage, checked before the record is looked at so that a
// refusal tells nothing about it.
func (c *call) unlockUser() (any, error) {
	name := c.path("username")
	var res unlockResult
	err := c.tx(func(tx store.Tx) error {
		if err := c.mayUnlock(tx, name); err != nil {
			return err
		}
		st, err := tx.GetLoginState(c.ctx(), name)
		if err != nil {
			return onNotFound(err, "user %q has no failed logins on record", name)
		}
		if err := tx.DeleteLoginState(c.ctx(), name); err != nil {
			return fmt.Errorf("unlock %q: %w", name, err)
		}
		res = unlockResult{Username: name, Failures: st.Failures, LockedUntil: st.LockedUntil}
		return c.audit(tx, "auth.unlock", "/users/"+name, map[string]any{"username": name, "client": clientAddr(c.r),
			"failures": st.Failures, "locked_until": st.LockedUntil})
	})
	if err != nil {
		return nil, err
	}
	c.s.log.Info("user unlocked", "username", name, "by", c.user.Username, "client", clientAddr(c.r))
	return res, nil
}
