package adminapi

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// gatewayTokenRequest is what a client sends to make a join token; every
// other member of spec.GatewayToken is the server's to set.
type gatewayTokenRequest struct {
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (r gatewayTokenRequest) validate(now time.Time) error {
	var fe spec.FieldErrors
	switch n := utf8.RuneCountInString(r.Name); {
	case strings.TrimSpace(r.Name) == "":
		fe.Add("name", "is required: say which gateways it is for")
	case n > 64:
		fe.Add("name", "must be at most 64 characters")
	case strings.ContainsFunc(r.Name, func(c rune) bool { return c < 0x20 || c == 0x7f }):
		fe.Add("name", "must not hold control characters")
	}
	switch {
	case r.ExpiresAt.IsZero():
	case !r.ExpiresAt.After(now):
		fe.Add("expires_at", "must be in the future")
	case !spec.ValidStoredTime(r.ExpiresAt):
		fe.Add("expires_at", "must be before 2200")
	}
	return fe.Err()
}

// adminOnly refuses the call unless the caller is an admin: a join token
// reads everything its group runs.
func (c *call) adminOnly(what string) error {
	if !c.isAdmin() {
		return withDetail(errForbidden, "only an admin can %s", what)
	}
	return nil
}

func (c *call) listGatewayTokens() (any, error) {
	if err := c.adminOnly("see gateway tokens"); err != nil {
		return nil, err
	}
	var res listResult
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		items, err := tx.ListGatewayTokens(c.ctx(), g.Name)
		if err != nil {
			return fmt.Errorf("list tokens of gateway group %q: %w", g.Name, err)
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

func (c *call) getGatewayToken() (any, error) {
	if err := c.adminOnly("see gateway tokens"); err != nil {
		return nil, err
	}
	var tok spec.GatewayToken
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		tok, err = tx.GetGatewayToken(c.ctx(), g.Name, c.path("t"))
		return onNotFound(err, "gateway group %q has no token %q", g.Name, c.path("t"))
	})
	return tok, err
}

// createGatewayToken makes a join token for the group's stand-alone
// gateways; the answer carries the token, the only time it is shown.
func (c *call) createGatewayToken() (any, error) {
	if err := c.adminOnly("make a gateway token"); err != nil {
		return nil, err
	}
	var req gatewayTokenRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := req.validate(c.s.now()); err != nil {
		return nil, err
	}
	secret := spec.GatewayTokenPrefix + credential.Generate()
	tok := spec.GatewayToken{Name: req.Name, ExpiresAt: req.ExpiresAt.UTC(), Hint: "..." + secret[len(secret)-4:], CreatedBy: c.user.Username}
	err := c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		tok.Group = g.Name
		if err := tx.CreateGatewayToken(c.ctx(), &tok, credential.HashKey(secret)); err != nil {
			return onConflict(err, "gateway group %q already has a token named %q", g.Name, tok.Name)
		}
		return c.auditChange(tx, "gateway-token.create", "/gateway-groups/"+g.Name+"/tokens/"+tok.ID, nil, tok)
	})
	if err != nil {
		return nil, err
	}
	tok.Token = secret
	return tok, nil
}

// revokeGatewayToken deletes a join token: a gateway presenting it is
// refused from its next request on, and keeps serving what it has.
func (c *call) revokeGatewayToken() (any, error) {
	if err := c.adminOnly("revoke a gateway token"); err != nil {
		return nil, err
	}
	return nil, c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		tok, err := tx.GetGatewayToken(c.ctx(), g.Name, c.path("t"))
		if err != nil {
			return onNotFound(err, "gateway group %q has no token %q", g.Name, c.path("t"))
		}
		if err := tx.DeleteGatewayToken(c.ctx(), g.Name, tok.ID); err != nil {
			return fmt.Errorf("revoke token %s of gateway group %q: %w", tok.ID, g.Name, err)
		}
		return c.auditChange(tx, "gateway-token.revoke", "/gateway-groups/"+g.Name+"/tokens/"+tok.ID, tok, nil)
	})
}
