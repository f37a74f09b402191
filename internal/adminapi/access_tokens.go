package adminapi

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Personal access tokens are a user's bearer tokens for scripts and
// portico ctl: named, scoped (read or full), expiring. Each user manages
// their own under /tokens; an administrator sees and revokes anyone's
// under /users/{username}/tokens. The token text is shown once.

// patPrefix marks a personal access token, so that one pasted where it
// does not belong (a log, a repository) can be recognised by scanners.
const patPrefix = "pat_"

const (
	defaultTokenDays = 90
	maxTokenDays     = 366
	maxTokenName     = 64
)

// accessTokenRequest is what a client sends to make a token.
type accessTokenRequest struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
	// ExpiresInDays is 1 to 366; left out, 90. A pointer, so that 0 is
	// refused rather than taken for the default.
	ExpiresInDays *int `json:"expires_in_days,omitempty"`
}

func (r accessTokenRequest) validate() error {
	var fe spec.FieldErrors
	switch {
	case strings.TrimSpace(r.Name) == "":
		fe.Add("name", "is required: say what the token is for")
	case utf8.RuneCountInString(r.Name) > maxTokenName:
		fe.Add("name", "must be at most %d characters", maxTokenName)
	case !utf8.ValidString(r.Name) || strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c == 0x7f }):
		fe.Add("name", "must be UTF-8 without control characters")
	}
	if r.Scope != spec.ScopeRead && r.Scope != spec.ScopeFull {
		fe.Add("scope", "is required: %s (may only read) or %s (may do what you may)", spec.ScopeRead, spec.ScopeFull)
	}
	if d := r.ExpiresInDays; d != nil && (*d < 1 || *d > maxTokenDays) {
		fe.Add("expires_in_days", "must be between 1 and %d", maxTokenDays)
	}
	return fe.Err()
}

func toAccessToken(t store.Token) spec.AccessToken {
	return spec.AccessToken{ID: t.ID, Name: t.Name, Scope: t.Scope, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt}
}

// accessTokensOf lists a user's live personal access tokens, newest first.
func (c *call) accessTokensOf(tx store.Tx, u spec.User) ([]spec.AccessToken, error) {
	toks, err := tx.ListTokens(c.ctx(), u.ID, store.TokenPAT)
	if err != nil {
		return nil, fmt.Errorf("list tokens of %q: %w", u.Username, err)
	}
	out := make([]spec.AccessToken, len(toks))
	for i, t := range toks {
		out[i] = toAccessToken(t)
	}
	return out, nil
}

// revokeAccessToken deletes one token of a user: a request presenting it
// is refused from then on.
func (c *call) revokeAccessToken(tx store.Tx, u spec.User, id string) error {
	toks, err := c.accessTokensOf(tx, u)
	if err != nil {
		return err
	}
	name := ""
	for _, t := range toks {
		if t.ID == id {
			name = t.Name
		}
	}
	if err := tx.DeleteUserToken(c.ctx(), u.ID, store.TokenPAT, id); err != nil {
		return onNotFound(err, "user %q has no token %q", u.Username, id)
	}
	return c.audit(tx, "token.revoke", userResource(u)+"/tokens/"+id, map[string]any{"username": u.Username, "name": name})
}

func (c *call) listMyTokens() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		items, err := c.accessTokensOf(tx, c.user)
		res = list(items, len(items))
		return err
	})
	return res, err
}

func (c *call) createMyToken() (any, error) {
	var req accessTokenRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	days := defaultTokenDays
	if req.ExpiresInDays != nil {
		days = *req.ExpiresInDays
	}
	secret := patPrefix + rand.Text()
	var res spec.AccessToken
	err := c.tx(func(tx store.Tx) error {
		// Names are unique among a user's live tokens (the store does
		// not enforce it: sessions all share one name).
		toks, err := c.accessTokensOf(tx, c.user)
		if err != nil {
			return err
		}
		for _, t := range toks {
			if t.Name == req.Name {
				return withDetail(store.ErrConflict, "you already have a token named %q", req.Name)
			}
		}
		t := &store.Token{UserID: c.user.ID, Hash: tokenHash(secret), Name: req.Name, Kind: store.TokenPAT, Scope: req.Scope,
			ExpiresAt: c.s.now().Add(time.Duration(days) * 24 * time.Hour), Client: clientAddr(c.r), UserAgent: userAgent(c.r)}
		if err := tx.CreateToken(c.ctx(), t); err != nil {
			return fmt.Errorf("create token %q: %w", req.Name, err)
		}
		res = toAccessToken(*t)
		return c.audit(tx, "token.create", userResource(c.user)+"/tokens/"+t.ID,
			map[string]any{"username": c.user.Username, "name": t.Name, "scope": t.Scope, "expires_at": t.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	res.Token = secret
	return res, nil
}

func (c *call) getMyToken() (any, error) {
	var res spec.AccessToken
	err := c.view(func(tx store.Tx) error {
		toks, err := c.accessTokensOf(tx, c.user)
		if err != nil {
			return err
		}
		for _, t := range toks {
			if t.ID == c.path("t") {
				res = t
				return nil
			}
		}
		return withDetail(store.ErrNotFound, "you have no token %q", c.path("t"))
	})
	return res, err
}

func (c *call) revokeMyToken() (any, error) {
	return nil, c.tx(func(tx store.Tx) error { return c.revokeAccessToken(tx, c.user, c.path("t")) })
}

func (c *call) listUserTokens() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		items, err := c.accessTokensOf(tx, u)
		res = list(items, len(items))
		return err
	})
	return res, err
}

func (c *call) revokeUserToken() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		u, err := c.findUser(tx, c.path("username"))
		if err != nil {
			return err
		}
		return c.revokeAccessToken(tx, u, c.path("t"))
	})
}
