package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Service registry connections of a gateway group: its gateways ask them
// for the nodes of upstreams whose discovery names them. Credentials
// (password, token) are write-only: sealed with the registry's id as
// associated data, carried sealed in snapshots, opened only by gateways.
// A change reaches the gateways as a new revision of the group, and is
// refused when what the group runs would no longer compile (a running
// service discovering through a registry deleted or renamed).

func registryResource(group, id string) string {
	return groupResource(group) + "/registries/" + id
}

// registryServerSet are the members of a registry only answers carry: a
// body that sends them is refused rather than silently ignored (has_password
// false does not remove a password: "password": "" does).
var registryServerSet = []string{"has_password", "has_token", "status"}

// credentialsSent says which credentials a body names, even as "" or
// null: a PUT keeps a stored one it does not name.
type credentialsSent struct{ password, token bool }

// decodeRegistry reads a registry as a client writes it: strictly
// (unknown members, sealed and secret among them, are 400), refusing the
// members only the server sets.
func decodeRegistry(body []byte) (spec.Registry, credentialsSent, error) {
	var r spec.Registry
	var sent credentialsSent
	doc, err := parseJSON(body)
	if err != nil {
		return r, sent, err
	}
	var fe spec.FieldErrors
	if m, ok := doc.(map[string]any); ok {
		for _, f := range registryServerSet {
			if _, ok := m[f]; ok {
				fe.Add(f, "is set by the server and cannot be sent")
			}
		}
		_, sent.password = m["password"]
		_, sent.token = m["token"]
	}
	if err := strictDecode(body, &r); err != nil {
		more, ok := errors.AsType[spec.FieldErrors](err)
		if !ok {
			return r, sent, err
		}
		fe = append(fe, more...)
	}
	return r, sent, fe.Err()
}

func (c *call) loadRegistry(tx store.Tx, group, idOrName string) (spec.Registry, error) {
	r, err := tx.GetRegistry(c.ctx(), group, idOrName)
	return r, onNotFound(err, "registry %q not found in gateway group %q", idOrName, group)
}

// registryStatus is what the group's gateway instances that are not
// offline report of its registries, by registry name, each entry naming
// its instance.
func (c *call) registryStatus(tx store.Tx, g spec.GatewayGroup) (map[string][]spec.RegistryStatus, error) {
	items, j, err := c.instances(tx, g.Name)
	if err != nil {
		return nil, err
	}
	out := map[string][]spec.RegistryStatus{}
	for _, in := range items {
		if j.state(in, g.Revision) == spec.InstanceOffline {
			continue
		}
		for _, rs := range in.Registries {
			rs.Instance = in.ID
			out[rs.Registry] = append(out[rs.Registry], rs)
		}
	}
	return out, nil
}

// answerRegistry is r as the admin API answers it: no credential in any
// form, with what the group's instances report of it.
func answerRegistry(r spec.Registry, status map[string][]spec.RegistryStatus) spec.Registry {
	r = r.Redacted()
	r.Status = status[r.Name]
	return r
}

func (c *call) listRegistries() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		items, err := tx.ListRegistries(c.ctx(), g.Name)
		if err != nil {
			return fmt.Errorf("list registries of gateway group %q: %w", g.Name, err)
		}
		status, err := c.registryStatus(tx, g)
		if err != nil {
			return err
		}
		for i := range items {
			items[i] = answerRegistry(items[i], status)
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

func (c *call) getRegistry() (any, error) {
	var r spec.Registry
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		if r, err = c.loadRegistry(tx, g.Name, c.path("reg")); err != nil {
			return err
		}
		status, err := c.registryStatus(tx, g)
		r = answerRegistry(r, status)
		return err
	})
	return r, err
}

func (c *call) createRegistry() (any, error) {
	if err := c.adminOnly("add service registries"); err != nil {
		return nil, err
	}
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	r, _, err := decodeRegistry(body)
	if err != nil {
		return nil, err
	}
	r.ID, r.Group, r.CreatedAt, r.UpdatedAt = newID(), c.path("g"), time.Time{}, time.Time{}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := c.sealRegistry(&r); err != nil {
		return nil, err
	}
	err = c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, r.Group)
		if err != nil {
			return err
		}
		if err := tx.CreateRegistry(c.ctx(), &r); err != nil {
			return onConflict(err, "gateway group %q already has a registry named %q", r.Group, r.Name)
		}
		if err := c.registriesChanged(tx, "registry.create", r, "", nil, auditedRegistry(r, credentialsSent{password: true, token: true})); err != nil {
			return err
		}
		status, err := c.registryStatus(tx, g)
		r = answerRegistry(r, status)
		return err
	})
	return r, err
}

// putRegistry replaces a registry. Its password and token are write-only,
// so a client cannot send them back: one the body does not name is kept
// as stored; one it names is replaced by what it gives, "" (or null)
// removing it.
func (c *call) putRegistry() (any, error) {
	if err := c.adminOnly("change service registries"); err != nil {
		return nil, err
	}
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	r, sent, err := decodeRegistry(body)
	if err != nil {
		return nil, err
	}
	err = c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		old, err := c.loadRegistry(tx, g.Name, c.path("reg"))
		if err != nil {
			return err
		}
		r.ID, r.Group, r.CreatedAt, r.UpdatedAt = old.ID, old.Group, old.CreatedAt, time.Time{}
		kept, err := c.keepCredentials(&r, old, sent)
		if err != nil {
			return err
		}
		if err := validateKept(&r, kept); err != nil {
			return err
		}
		if err := c.sealRegistry(&r); err != nil {
			return err
		}
		if err := tx.UpdateRegistry(c.ctx(), &r); err != nil {
			return onConflict(err, "update registry %q of gateway group %q (is the name %q taken?)", old.Name, g.Name, r.Name)
		}
		renamedFrom := ""
		if old.Name != r.Name {
			renamedFrom = old.Name
		}
		if err := c.registriesChanged(tx, "registry.update", r, renamedFrom, auditedRegistry(old, credentialsSent{}), auditedRegistry(r, sent)); err != nil {
			return err
		}
		status, err := c.registryStatus(tx, g)
		r = answerRegistry(r, status)
		return err
	})
	return r, err
}

func (c *call) deleteRegistry() (any, error) {
	if err := c.adminOnly("delete service registries"); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		r, err := c.loadRegistry(tx, g.Name, c.path("reg"))
		if err != nil {
			return err
		}
		if err := tx.DeleteRegistry(c.ctx(), g.Name, r.ID); err != nil {
			return fmt.Errorf("delete registry %q of gateway group %q: %w", r.Name, g.Name, err)
		}
		return c.registriesChanged(tx, "registry.delete", r, r.Name, auditedRegistry(r, credentialsSent{}), nil)
	})
	return nil, err
}

// keptCredentials says which credentials a PUT kept from the stored ones.
type keptCredentials struct{ password, token bool }

// keepCredentials fills the credentials the body did not name from the
// stored ones, opening them only when one is needed.
func (c *call) keepCredentials(r *spec.Registry, old spec.Registry, sent credentialsSent) (keptCredentials, error) {
	var kept keptCredentials
	needPassword, needToken := !sent.password && old.HasPassword, !sent.token && old.HasToken
	if !needPassword && !needToken {
		return kept, nil
	}
	if old.Sealed == "" {
		return kept, fmt.Errorf("registry %q of gateway group %q says it has credentials, but none are sealed", old.Name, old.Group)
	}
	opened, err := c.s.secrets.Open(old.Sealed, old.ID)
	if err != nil {
		return kept, fmt.Errorf("open the credentials of registry %q: %w", old.Name, err)
	}
	var creds spec.RegistryCredentials
	if err := json.Unmarshal([]byte(opened), &creds); err != nil {
		return kept, fmt.Errorf("read the credentials of registry %q: %w", old.Name, err)
	}
	if needPassword && creds.Password != "" {
		r.Password, kept.password = creds.Password, true
	}
	if needToken && creds.Token != "" {
		r.Token, kept.token = creds.Token, true
	}
	return kept, nil
}

// validateKept validates r as a PUT leaves it, saying so when a problem is
// a stored credential the body left out (the client did not send it, and
// must send "" to remove it).
func validateKept(r *spec.Registry, kept keptCredentials) error {
	var fe spec.FieldErrors
	check := *r
	known := slices.Contains(spec.RegistryTypes, r.Type)
	if kept.password && known && r.Type != "nacos" && r.Type != "eureka" {
		fe.Add("password", `a password is stored, and a %s registry takes none: send "password": "" to remove it`, r.Type)
		check.Password = ""
	}
	if kept.token && known && r.Type != "consul" && r.Type != "kubernetes" {
		fe.Add("token", `a token is stored, and a %s registry takes none: send "token": "" to remove it`, r.Type)
		check.Token = ""
	}
	if err := check.Validate(); err != nil {
		more, ok := errors.AsType[spec.FieldErrors](err)
		if !ok {
			return err
		}
		for _, e := range more {
			if e.Field == "username" && check.Password != "" && kept.password {
				e.Message += ` (a password is stored: send "password": "" to remove it)`
			}
			fe = append(fe, e)
		}
	}
	return fe.Err()
}

// sealRegistry replaces the credentials given in clear by their sealed
// form: the JSON of spec.RegistryCredentials sealed with the id as
// associated data (so sealed credentials cannot be moved to another
// registry), "" when there are none; has_password and has_token say
// which are set.
func (c *call) sealRegistry(r *spec.Registry) error {
	r.HasPassword, r.HasToken, r.Sealed, r.Secret, r.Status = r.Password != "", r.Token != "", "", "", nil
	if r.Password != "" || r.Token != "" {
		b, err := json.Marshal(spec.RegistryCredentials{Password: r.Password, Token: r.Token})
		if err != nil {
			return fmt.Errorf("credentials of registry %q: %w", r.Name, err)
		}
		if r.Sealed, err = c.s.secrets.Seal(string(b), r.ID); err != nil {
			return fmt.Errorf("seal the credentials of registry %q: %w", r.Name, err)
		}
	}
	r.Password, r.Token = "", ""
	return nil
}

// registriesChanged sends the group's gateways their new registries (a
// new revision of the whole group, compiled first: a running service
// discovering through a registry that is gone is refused, 400 naming the
// service) and records who did what, from before to after (nil: none).
// gone is the name no longer there (deleted, or renamed from), "" for
// none.
func (c *call) registriesChanged(tx store.Tx, action string, r spec.Registry, gone string, before, after any) error {
	res := registryResource(r.Group, r.ID)
	if _, err := release.Apply(c.ctx(), tx, release.Change{Groups: []string{r.Group},
		Audit: &release.AuditNote{Actor: c.user.Username, Action: "release.registry", Resource: res,
			Detail: map[string]any{"registry": r.Name, "change": action}}}); err != nil {
		if fe, ok := errors.AsType[spec.FieldErrors](err); ok && gone != "" {
			return withDetail(err, "registry %q is used by what runs in gateway group %q: %s", gone, r.Group, fieldList(fe))
		}
		return fmt.Errorf("%s %q: %w", action, r.Name, err)
	}
	return c.auditChange(tx, action, res, before, after)
}

// auditedRegistry is r (sealed, as stored) as its audit shows it:
// redacted, without the instances' status, with a mark of its password
// and token (secretMark; sent: this change gave them).
func auditedRegistry(r spec.Registry, sent credentialsSent) spec.Registry {
	a := r.Redacted()
	a.Status = nil
	a.Password = secretMark(a.HasPassword, sent.password)
	a.Token = secretMark(a.HasToken, sent.token)
	return a
}
