package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TLS certificates of a gateway group: every gateway of the group presents
// them on its HTTPS listener, chosen by the name the client asks for. A
// change reaches the gateways as a new revision of the group.

func certificateResource(group, id string) string {
	return groupResource(group) + "/certificates/" + id
}

func (c *call) loadCertificate(tx store.Tx, group, idOrName string) (spec.Certificate, error) {
	cert, err := tx.GetCertificate(c.ctx(), group, idOrName)
	return cert, onNotFound(err, "certificate %q not found in gateway group %q", idOrName, group)
}

func (c *call) listCertificates() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		items, err := tx.ListCertificates(c.ctx(), g.Name)
		if err != nil {
			return fmt.Errorf("list certificates of gateway group %q: %w", g.Name, err)
		}
		for i := range items {
			items[i] = items[i].Redacted()
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

func (c *call) getCertificate() (any, error) {
	var cert spec.Certificate
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		cert, err = c.loadCertificate(tx, g.Name, c.path("cert"))
		return err
	})
	return cert.Redacted(), err
}

func (c *call) createCertificate() (any, error) {
	if err := c.adminOnly("add certificates"); err != nil {
		return nil, err
	}
	var cert spec.Certificate
	if err := c.decode(&cert); err != nil {
		return nil, err
	}
	cert.ID, cert.Group, cert.Sealed, cert.Secret = newID(), c.path("g"), "", ""
	if err := cert.CheckKeyPair(c.s.now()); err != nil {
		return nil, err
	}
	if err := c.sealKey(&cert); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadGroup(tx, cert.Group); err != nil {
			return err
		}
		if err := tx.CreateCertificate(c.ctx(), &cert); err != nil {
			return onConflict(err, "gateway group %q already has a certificate named %q", cert.Group, cert.Name)
		}
		return c.certificatesChanged(tx, "certificate.create", cert, nil, auditedCertificate(cert, true))
	})
	return cert.Redacted(), err
}

func (c *call) patchCertificate() (any, error) { return c.updateCertificate(true) }
func (c *call) putCertificate() (any, error)   { return c.updateCertificate(false) }

// updateCertificate keeps the stored private key unless a new one is given
// (it is write-only, so a client cannot send it back); a new chain is
// checked against whichever key it will be served with.
func (c *call) updateCertificate(patch bool) (any, error) {
	if err := c.adminOnly("change certificates"); err != nil {
		return nil, err
	}
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var cert spec.Certificate
	err = c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		old, err := c.loadCertificate(tx, g.Name, c.path("cert"))
		if err != nil {
			return err
		}
		if cert, err = decodeUpdate(body, patch, old.Redacted()); err != nil {
			return err
		}
		cert.ID, cert.Group, cert.CreatedAt, cert.Sealed, cert.Secret = old.ID, old.Group, old.CreatedAt, "", ""
		newKey := cert.Key != ""
		if !newKey {
			key, err := c.s.secrets.Open(old.Sealed, old.ID)
			if err != nil {
				return fmt.Errorf("open the private key of certificate %q: %w", old.Name, err)
			}
			cert.Key = key
		}
		if err := cert.CheckKeyPair(c.s.now()); err != nil {
			return err
		}
		if err := c.sealKey(&cert); err != nil {
			return err
		}
		if err := tx.UpdateCertificate(c.ctx(), &cert); err != nil {
			return onConflict(err, "update certificate %q of gateway group %q (is the name %q taken?)", old.Name, g.Name, cert.Name)
		}
		return c.certificatesChanged(tx, "certificate.update", cert, auditedCertificate(old, false), auditedCertificate(cert, newKey))
	})
	return cert.Redacted(), err
}

func (c *call) deleteCertificate() (any, error) {
	if err := c.adminOnly("delete certificates"); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		cert, err := c.loadCertificate(tx, g.Name, c.path("cert"))
		if err != nil {
			return err
		}
		if err := tx.DeleteCertificate(c.ctx(), g.Name, cert.ID); err != nil {
			return fmt.Errorf("delete certificate %q of gateway group %q: %w", cert.Name, g.Name, err)
		}
		return c.certificatesChanged(tx, "certificate.delete", cert, auditedCertificate(cert, false), nil)
	})
	return nil, err
}

// sealKey replaces the private key given in clear by its sealed form (the
// id as associated data, so a sealed key cannot be moved to another
// certificate).
func (c *call) sealKey(cert *spec.Certificate) error {
	sealed, err := c.s.secrets.Seal(cert.Key, cert.ID)
	if err != nil {
		return fmt.Errorf("seal the private key of certificate %q: %w", cert.Name, err)
	}
	cert.Sealed, cert.Key = sealed, ""
	return nil
}

// auditedCertificate is cert as its audit shows it: redacted, with a mark
// of its private key (secretMark; setNow: this change gave a new one).
func auditedCertificate(cert spec.Certificate, setNow bool) spec.Certificate {
	a := cert.Redacted()
	a.Key = secretMark(true, setNow)
	return a
}

// certificatesChanged sends the group's gateways their new certificates (a
// new revision of the whole group) and records who did what, from before
// to after (nil: none).
func (c *call) certificatesChanged(tx store.Tx, action string, cert spec.Certificate, before, after any) error {
	res := certificateResource(cert.Group, cert.ID)
	if _, err := release.Apply(c.ctx(), tx, release.Change{Groups: []string{cert.Group},
		Audit: &release.AuditNote{Actor: c.user.Username, Action: "release.certificate", Resource: res,
			Detail: map[string]any{"certificate": cert.Name, "change": action}}}); err != nil {
		return fmt.Errorf("%s %q: %w", action, cert.Name, err)
	}
	return c.auditChange(tx, action, res, before, after)
}
