package adminapi

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// passwordChange is the body of POST /me/password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changeOwnPassword changes the caller's password. The current one is
// checked like a login's (under the same lockout and bcrypt slots): a
// stolen session must not become a way to guess the password, or to
// change it without knowing it. The other sessions end; the one presented
// stays, so the console that sent this keeps working.
func (c *call) changeOwnPassword() (any, error) {
	var req passwordChange
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	name := c.user.Username
	var fe spec.FieldErrors
	if req.CurrentPassword == "" {
		fe.Add("current_password", "is required")
	}
	switch {
	case req.NewPassword == "":
		fe.Add("new_password", "is required")
	case req.NewPassword == req.CurrentPassword:
		fe.Add("new_password", "must differ from current_password")
	default:
		passwordFieldErrors(&fe, "new_password", name, req.NewPassword)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if c.user.Source != spec.UserLocal || !c.user.PasswordSet {
		return nil, withDetail(store.ErrConflict, "your account has no password here to change")
	}
	s, client := c.s, clientAddr(c.r)
	if _, _, _, err := c.loginCheck(name, client, s.now(), false); err != nil {
		return nil, err
	}
	var (
		ok  bool
		err error
	)
	serr := s.hashSlots.do(c.ctx(), func() {
		now := s.now()
		var (
			hash  string
			known bool
		)
		if _, hash, known, err = c.loginCheck(name, client, now, true); err != nil {
			return
		}
		if ok = known && checkPassword(hash, req.CurrentPassword); !ok {
			err = c.loginFailed(name, client, now)
		}
	})
	if serr != nil {
		return nil, fmt.Errorf("change password of %q: waiting to check the password: %w", name, serr)
	}
	if !ok {
		if err == nil || errors.Is(err, errUnauthorized) {
			// loginFailed recorded it; the caller is signed in, so the
			// answer is about the field, not about the session.
			return nil, fieldError("current_password", "is wrong")
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	hash, err := HashPassword(req.NewPassword)
	if err != nil {
		return nil, fmt.Errorf("change password of %q: %w", name, err)
	}
	res := passwordResult{Username: name}
	err = c.tx(func(tx store.Tx) error {
		if err := tx.SetPassword(c.ctx(), c.user.ID, hash); err != nil {
			return fmt.Errorf("change password of %q: %w", name, err)
		}
		if res.SessionsEnded, err = endSessions(c, tx, c.user.ID, c.presentedHash()); err != nil {
			return err
		}
		// A pending reset link would undo the change.
		if _, err := tx.DeleteUserTokens(c.ctx(), c.user.ID, store.TokenInvite, store.TokenReset); err != nil {
			return fmt.Errorf("change password of %q: %w", name, err)
		}
		return c.audit(tx, "user.password_change", userResource(c.user), map[string]any{"username": name, "sessions_ended": res.SessionsEnded})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
