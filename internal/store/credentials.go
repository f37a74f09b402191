package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// CredentialSecret is what the store keeps of a credential's secret; the
// caller computes it (package credential), the store never sees a secret.
type CredentialSecret struct {
	// Lookup finds the credential at the gateway: the hex SHA-256 of a
	// key-auth key, else the public identifier (username, access key, jwt
	// key, client id). Unique per type.
	Lookup string
	Hash   string // bcrypt of a password, SHA-256 of a client secret
	Sealed string // sealed HMAC or JWT secret
}

const credentialCols = "id, application_id, type, lookup, hint, algorithm, expires_at, created_at"

func scanCredential(s scanner) (spec.Credential, error) {
	var c spec.Credential
	var lookup string
	var expires, created int64
	if err := s.Scan(&c.ID, &c.ApplicationID, &c.Type, &lookup, &c.Hint, &c.Algorithm, &expires, &created); err != nil {
		return spec.Credential{}, err
	}
	switch c.Type {
	case spec.CredBasicAuth:
		c.Username = lookup
	case spec.CredHMACAuth:
		c.AccessKey = lookup
	case spec.CredJWTAuth:
		c.Key = lookup
	case spec.CredOAuth2:
		c.ClientID = lookup
	case spec.CredMTLSAuth:
		c.Subject = lookup
	}
	c.ExpiresAt, c.CreatedAt = fromNanos(expires), fromNanos(created)
	return c, nil
}

// CreateCredential stores c (its secret fields are ignored) with sec. A
// lookup value another application holds for the type is ErrConflict (the
// same application may hold it twice: a rotation's overlap); a missing
// application is ErrNotFound. c comes back redacted.
func (t *txn) CreateCredential(ctx context.Context, c *spec.Credential, sec CredentialSecret) error {
	if err := ensureID(&c.ID); err != nil {
		return err
	}
	var holder string
	err := t.queryRow(ctx, "SELECT application_id FROM credentials WHERE type = $1 AND lookup = $2 AND application_id <> $3 LIMIT 1",
		c.Type, sec.Lookup, c.ApplicationID).Scan(&holder)
	switch {
	case err == nil:
		return fmt.Errorf("a %s credential with that identifier belongs to another application: %w", c.Type, ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("create %s credential: %w", c.Type, err)
	}
	ts := now()
	c.CreatedAt = ts
	_, err = t.exec(ctx, `INSERT INTO credentials (id, application_id, type, lookup, hint, secret_hash, secret_sealed,
		algorithm, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.ApplicationID, c.Type, sec.Lookup, c.Hint, sec.Hash, sec.Sealed, c.Algorithm, toNanos(c.ExpiresAt), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("a %s credential with that identifier already exists: %w", c.Type, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create credential: application %s: %w", c.ApplicationID, ErrNotFound)
		}
		return fmt.Errorf("create %s credential: %w", c.Type, err)
	}
	*c = c.Redacted()
	return nil
}

func (t *txn) GetCredential(ctx context.Context, app, id string) (spec.Credential, error) {
	c, err := scanCredential(t.queryRow(ctx, "SELECT "+credentialCols+" FROM credentials WHERE application_id = $1 AND id = $2", app, id))
	if err != nil {
		return spec.Credential{}, notFound(err, "credential %s of application %s", id, app)
	}
	return c, nil
}

// ListCredentials returns an application's credentials in creation order,
// redacted.
func (t *txn) ListCredentials(ctx context.Context, app string) ([]spec.Credential, error) {
	out := []spec.Credential{}
	err := t.each(ctx, "list credentials of application "+app, func(rows *sql.Rows) error {
		c, err := scanCredential(rows)
		out = append(out, c)
		return err
	}, "SELECT "+credentialCols+" FROM credentials WHERE application_id = $1 ORDER BY created_at, id", app)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetCredentialExpiry sets (or, with the zero time, clears) when a
// credential stops being accepted.
func (t *txn) SetCredentialExpiry(ctx context.Context, app, id string, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("expire credential %s of application %s", id, app),
		"UPDATE credentials SET expires_at = $3 WHERE application_id = $1 AND id = $2", app, id, toNanos(at))
}

// DeleteCredential revokes a credential at once.
func (t *txn) DeleteCredential(ctx context.Context, app, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete credential %s of application %s", id, app),
		"DELETE FROM credentials WHERE application_id = $1 AND id = $2", app, id)
}
