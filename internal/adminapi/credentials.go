package adminapi

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Credentials of an application. The create (and rotate) answer is the
// only one that shows a secret; the store keeps a hash or a sealed value.

func credentialResource(app, id string) string {
	return applicationResource(app) + "/credentials/" + id
}

// credentialPatch is what PATCH may change: when the credential expires
// (null clears it). Secrets are changed by rotating.
type credentialPatch struct {
	ExpiresAt *time.Time `json:"expires_at"`
}

// rotateRequest asks for a new secret beside the old one; the old expires
// after Overlap seconds (default 3600; 0 revokes it at once).
type rotateRequest struct {
	Overlap *int64 `json:"overlap,omitempty"`
}

const defaultOverlap = 3600

// materialize fills left-out identifiers and secrets of c (c.ID set) and
// computes what the store keeps. c keeps its secrets: the answer shows them.
func (s *server) materialize(c *spec.Credential) (store.CredentialSecret, error) {
	var sec store.CredentialSecret
	var err error
	c.Hint = "" // the server's: set below for key-auth, never taken from the client
	switch c.Type {
	case spec.CredKeyAuth:
		if c.Key == "" {
			c.Key = credential.Generate()
		}
		sec.Lookup = credential.HashKey(c.Key)
		// Nothing derived from the hash: a prefix of an unsalted SHA-256
		// lets anyone who reads the list test guesses of the key offline.
		c.Hint = spec.KeyHint(c.Key)
	case spec.CredBasicAuth:
		if c.Password == "" {
			c.Password = credential.Generate()
		}
		sec.Lookup = c.Username
		if sec.Hash, err = credential.HashPassword(c.Password); err != nil {
			return sec, fieldError("password", "%v", err)
		}
	case spec.CredHMACAuth:
		if c.AccessKey == "" {
			c.AccessKey = strings.ToLower(credential.Generate())
		}
		if c.SecretKey == "" {
			c.SecretKey = credential.Generate()
		}
		sec.Lookup = c.AccessKey
		sec.Sealed, err = s.secrets.Seal(c.SecretKey, c.ID)
	case spec.CredJWTAuth:
		if c.Key == "" {
			c.Key = strings.ToLower(credential.Generate())
		}
		if c.Algorithm == "" {
			c.Algorithm = "HS256"
		}
		if c.Secret == "" {
			c.Secret = credential.Generate()
		}
		if err := checkPublicKey(c.Algorithm, c.Secret); err != nil {
			return sec, err
		}
		sec.Lookup = c.Key
		sec.Sealed, err = s.secrets.Seal(c.Secret, c.ID)
	case spec.CredOAuth2:
		if c.ClientID == "" {
			c.ClientID = strings.ToLower(credential.Generate())
		}
		if c.ClientSecret == "" {
			c.ClientSecret = credential.Generate()
		}
		sec.Lookup = c.ClientID
		sec.Hash = credential.HashKey(c.ClientSecret)
	case spec.CredMTLSAuth:
		sec.Lookup = c.Subject // no secret: the TLS listener verified the certificate
	}
	if err != nil {
		return sec, fmt.Errorf("seal %s secret: %w", c.Type, err)
	}
	return sec, nil
}

// checkPublicKey makes sure an RS256 or ES256 credential holds a PEM public
// key of the right kind, so the gateway never meets one it cannot use.
func checkPublicKey(alg, pemText string) error {
	var want string
	switch alg {
	case "RS256":
		want = "an RSA"
	case "ES256":
		want = "a P-256 ECDSA"
	default:
		return nil
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return fieldError("secret", "must be %s public key in PEM form for %s", want, alg)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fieldError("secret", "must be %s public key in PEM form for %s", want, alg)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg == "RS256" {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" && k.Curve.Params().Name == "P-256" {
			return nil
		}
	}
	return fieldError("secret", "must be %s public key in PEM form for %s", want, alg)
}

func (c *call) listCredentials() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		a, err := c.loadApplication(tx, c.path("a"))
		if err != nil {
			return err
		}
		items, err := tx.ListCredentials(c.ctx(), a.ID)
		if err != nil {
			return fmt.Errorf("list credentials of %s: %w", a.ID, err)
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

func (c *call) loadCredential(tx store.Tx) (spec.Application, spec.Credential, error) {
	a, err := c.loadApplication(tx, c.path("a"))
	if err != nil {
		return a, spec.Credential{}, err
	}
	cr, err := tx.GetCredential(c.ctx(), a.ID, c.path("c"))
	return a, cr, onNotFound(err, "credential %q not found in application %q", c.path("c"), a.ID)
}

func (c *call) getCredential() (any, error) {
	var cr spec.Credential
	err := c.view(func(tx store.Tx) error {
		var err error
		_, cr, err = c.loadCredential(tx)
		return err
	})
	return cr, err
}

// createCredential makes a credential; the answer carries its secret, the
// only time it is shown.
func (c *call) createCredential() (any, error) {
	var cr spec.Credential
	if err := c.decode(&cr); err != nil {
		return nil, err
	}
	if err := cr.Validate(); err != nil {
		return nil, err
	}
	cr.ID, cr.CreatedAt = newID(), time.Time{}
	var out spec.Credential
	err := c.tx(func(tx store.Tx) error {
		a, err := c.loadApplication(tx, c.path("a"))
		if err != nil {
			return err
		}
		cr.ApplicationID = a.ID
		if err := c.refuseOwnDuplicate(tx, a.ID, &cr); err != nil {
			return err
		}
		out, err = c.storeCredential(tx, a.ProjectID, cr)
		return err
	})
	return out, err
}

// refuseOwnDuplicate answers 409 when the application already holds the
// identifier: a second secret for it is a rotation (…/rotate), not a create.
func (c *call) refuseOwnDuplicate(tx store.Tx, app string, cr *spec.Credential) error {
	ident := map[string]string{spec.CredBasicAuth: cr.Username, spec.CredHMACAuth: cr.AccessKey,
		spec.CredJWTAuth: cr.Key, spec.CredOAuth2: cr.ClientID, spec.CredMTLSAuth: cr.Subject}[cr.Type]
	if ident == "" {
		return nil
	}
	have, err := tx.ListCredentials(c.ctx(), app)
	if err != nil {
		return fmt.Errorf("credentials of %s: %w", app, err)
	}
	for _, h := range have {
		if h.Type == cr.Type && (h.Username == ident || h.AccessKey == ident || h.Key == ident || h.ClientID == ident || h.Subject == ident) {
			return withDetail(store.ErrConflict, "application %q already has a %s credential %q; rotate it with POST …/credentials/%s/rotate", app, cr.Type, ident, h.ID)
		}
	}
	return nil
}

// storeCredential materializes, stores, audits and commits cr, a
// credential of an application of project (""; a user's); it answers cr
// with its secrets.
func (c *call) storeCredential(tx store.Tx, project string, cr spec.Credential) (spec.Credential, error) {
	sec, err := c.s.materialize(&cr)
	if err != nil {
		return spec.Credential{}, err
	}
	shown := cr
	if err := tx.CreateCredential(c.ctx(), &cr, sec); err != nil {
		return spec.Credential{}, onConflict(err, "that %s identifier belongs to another application", cr.Type)
	}
	shown.CreatedAt = cr.CreatedAt
	res := credentialResource(cr.ApplicationID, cr.ID)
	if err := c.auditChangeIn(tx, project, "credential.create", res, nil, cr.Redacted()); err != nil {
		return spec.Credential{}, err
	}
	return shown, c.commitConsumers(tx, "credential.create", res)
}

// patchCredential sets or clears expires_at.
func (c *call) patchCredential() (any, error) {
	var p credentialPatch
	if err := c.decode(&p); err != nil {
		return nil, err
	}
	if p.ExpiresAt != nil && !spec.ValidStoredTime(*p.ExpiresAt) {
		return nil, fieldError("expires_at", "must be before 2200")
	}
	var cr spec.Credential
	err := c.tx(func(tx store.Tx) error {
		a, old, err := c.loadCredential(tx)
		if err != nil {
			return err
		}
		var at time.Time
		if p.ExpiresAt != nil {
			at = p.ExpiresAt.UTC()
		}
		if err := tx.SetCredentialExpiry(c.ctx(), a.ID, old.ID, at); err != nil {
			return onNotFound(err, "credential %q not found", old.ID)
		}
		if cr, err = tx.GetCredential(c.ctx(), a.ID, old.ID); err != nil {
			return fmt.Errorf("read credential back: %w", err)
		}
		res := credentialResource(a.ID, old.ID)
		if err := c.auditChangeIn(tx, a.ProjectID, "credential.update", res, old.Redacted(), cr.Redacted()); err != nil {
			return err
		}
		return c.commitConsumers(tx, "credential.update", res)
	})
	return cr, err
}

// rotateCredential makes a new secret for the same identifier (a new key
// for key-auth) and lets the old one expire after the overlap.
func (c *call) rotateCredential() (any, error) {
	var req rotateRequest
	b, err := c.readBody()
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := strictDecode(b, &req); err != nil {
			return nil, err
		}
	}
	overlap := int64(defaultOverlap)
	if req.Overlap != nil {
		overlap = *req.Overlap
	}
	if overlap < 0 || overlap > 30*24*3600 {
		return nil, fieldError("overlap", "must be between 0 and 2592000 seconds")
	}
	var out spec.Credential
	err = c.tx(func(tx store.Tx) error {
		a, old, err := c.loadCredential(tx)
		if err != nil {
			return err
		}
		if !old.ExpiresAt.IsZero() && !old.ExpiresAt.After(c.s.now()) {
			return withDetail(store.ErrConflict, "credential %q has expired; create a new one", old.ID)
		}
		if old.Type == spec.CredMTLSAuth {
			return fieldError("type", "an mtls-auth credential holds no secret: a new certificate of the same subject needs no change, one of another subject a new credential")
		}
		next := spec.Credential{ID: newID(), ApplicationID: a.ID, Type: old.Type, Username: old.Username,
			AccessKey: old.AccessKey, Algorithm: old.Algorithm, ClientID: old.ClientID}
		if old.Type == spec.CredJWTAuth {
			if old.Algorithm == "RS256" || old.Algorithm == "ES256" {
				return fieldError("type", "an %s credential holds a public key: create one with the new key instead", old.Algorithm)
			}
			next.Key = old.Key
		}
		if err := tx.SetCredentialExpiry(c.ctx(), a.ID, old.ID, c.s.now().Add(time.Duration(overlap)*time.Second)); err != nil {
			return fmt.Errorf("expire credential %s: %w", old.ID, err)
		}
		// The old credential's end is a change of its own: the audit
		// says when it stops being accepted.
		expiring, err := tx.GetCredential(c.ctx(), a.ID, old.ID)
		if err != nil {
			return fmt.Errorf("read credential %s back: %w", old.ID, err)
		}
		if err := c.auditChangeIn(tx, a.ProjectID, "credential.rotate", credentialResource(a.ID, old.ID), old.Redacted(), expiring.Redacted()); err != nil {
			return err
		}
		out, err = c.storeCredential(tx, a.ProjectID, next)
		return err
	})
	return out, err
}

// deleteCredential revokes a credential at once.
func (c *call) deleteCredential() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		a, cr, err := c.loadCredential(tx)
		if err != nil {
			return err
		}
		if err := tx.DeleteCredential(c.ctx(), a.ID, cr.ID); err != nil {
			return onNotFound(err, "credential %q not found", cr.ID)
		}
		res := credentialResource(a.ID, cr.ID)
		if err := c.auditChangeIn(tx, a.ProjectID, "credential.delete", res, cr.Redacted(), nil); err != nil {
			return err
		}
		return c.commitConsumers(tx, "credential.delete", res)
	})
}
