package adminapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// HashPassword returns the bcrypt hash of a user's password, at the
// cost of the credentials' (credential.HashPassword).
func HashPassword(pw string) (string, error) {
	return credential.HashPassword(pw)
}

// CheckPassword reports whether pw matches the bcrypt hash.
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// tokenHash is what the store keeps of a bearer token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// bearer extracts the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authenticate resolves the request's bearer token (or session cookie) to
// its user and what the user may do. A token of a disabled user is
// refused like an unknown one, from the request after the change on. An
// unknown token counts as a failed login of the client address (the
// lockout of guessed passwords covers guessed tokens too).
func (s *server) authenticate(r *http.Request) (spec.User, *rbac.Principal, error) {
	raw, err := requestToken(r)
	if err != nil {
		return spec.User{}, nil, err
	}
	now, client := s.now(), clientAddr(r)
	if until := s.clients.lockedUntil(client, now); !until.IsZero() {
		return spec.User{}, nil, lockedOut(until, now)
	}
	var (
		u   spec.User
		who *rbac.Principal
		tok store.Token
	)
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if tok, u, err = tx.TokenByHash(r.Context(), tokenHash(raw)); err != nil {
			return err
		}
		who, err = s.principal(tx, r, u, tok)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		if d, locked := s.clients.fail(client, now); locked {
			s.log.Warn("client locked out after unknown tokens", "client", client, "for", d.String())
			detail, _ := json.Marshal(map[string]any{"client": client, "reason": "unknown bearer tokens",
				"locked_until": now.Add(d), "seconds": int(d / time.Second)})
			err := s.store.Tx(r.Context(), func(tx store.Tx) error {
				return tx.AddAudit(r.Context(), &spec.AuditEvent{Actor: "anonymous", Action: "auth.lockout",
					Resource: "/clients/" + client, Client: client, Detail: detail, At: now})
			})
			if err != nil {
				s.log.Error("admin api: audit a client lockout", "client", client, "err", err)
			}
		}
		return spec.User{}, nil, withDetail(errUnauthorized, "the bearer token is unknown or expired")
	case err != nil:
		return spec.User{}, nil, fmt.Errorf("authenticate: %w", err)
	}
	if now.Sub(tok.LastUsedAt) >= touchEvery {
		// Best effort: a lost write costs a minute of accuracy, not the request.
		if err := s.store.Tx(r.Context(), func(tx store.Tx) error { return tx.TouchToken(r.Context(), tok.ID, now) }); err != nil {
			s.log.Warn("admin api: record token use", "err", err)
		}
	}
	return u, who, nil
}

func (c *call) logout() (any, error) {
	tok, _ := requestToken(c.r) // authenticated already
	return nil, c.tx(func(tx store.Tx) error {
		if err := tx.DeleteToken(c.ctx(), tokenHash(tok)); err != nil {
			return fmt.Errorf("logout: %w", err)
		}
		return c.audit(tx, "auth.logout", "/users/"+c.user.ID, nil)
	})
}

// newID returns a time-ordered unique id (UUIDv7).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does; v4 reads the same source.
		return uuid.NewString()
	}
	return id.String()
}
