package controlplane

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// bootstrap makes a fresh store usable in one transaction: the admin user,
// the default project, the default group and every group named by --group.
// Served groups get a first revision so a gateway's first poll answers at
// once, even before anything is published. The store remembers which
// secret key sealed its secrets (keyID): a control plane started with
// another one — a replica given its own data directory, a restore beside
// the wrong key file — is refused before it seals anything the others
// could not open.
func bootstrap(ctx context.Context, st store.Store, opts Options, keyID string) error {
	var generated string
	err := st.Tx(ctx, func(tx store.Tx) error {
		if err := claimSecretKey(ctx, tx, keyID); err != nil {
			return err
		}
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			pw := opts.AdminPassword
			if pw == "" {
				pw = rand.Text()
				generated = pw
			}
			hash, err := adminapi.HashPassword(pw)
			if err != nil {
				return fmt.Errorf("hash admin password: %w", err)
			}
			if err := tx.CreateUser(ctx, &spec.User{Username: "admin", Role: rbac.SuperAdmin}, hash); err != nil {
				return fmt.Errorf("create admin user: %w", err)
			}
		}
		groups := append([]string{spec.DefaultGroup}, opts.Groups...)
		for _, name := range groups {
			g, err := tx.GetGroup(ctx, name)
			if errors.Is(err, store.ErrNotFound) {
				g = spec.GatewayGroup{Name: name}
				if err := g.Validate(); err != nil {
					return fmt.Errorf("--group %q: %w", name, err)
				}
				if err := tx.CreateGroup(ctx, &g); err != nil {
					return fmt.Errorf("create gateway group %q: %w", name, err)
				}
			} else if err != nil {
				return fmt.Errorf("gateway group %q: %w", name, err)
			}
			if g.Revision == 0 {
				// Its first revision, through the one commit function.
				if _, err := release.Apply(ctx, tx, release.Change{Groups: []string{name},
					Audit: &release.AuditNote{Actor: "bootstrap", Action: "release.gateway_group", Resource: "/gateway-groups/" + name,
						Detail: map[string]any{"created": true}}}); err != nil {
					return fmt.Errorf("gateway group %q: %w", name, err)
				}
			}
		}
		if _, err := tx.GetProject(ctx, spec.DefaultProject); errors.Is(err, store.ErrNotFound) {
			p := spec.Project{ID: spec.DefaultProject, Name: "Default", TestGroup: spec.DefaultGroup, ProductionGroup: spec.DefaultGroup}
			if err := tx.CreateProject(ctx, &p); err != nil {
				return fmt.Errorf("create default project: %w", err)
			}
		} else if err != nil {
			return fmt.Errorf("default project: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if generated != "" {
		// Printed once, on the first start only: it is stored hashed.
		fmt.Fprintf(opts.Stdout, "First start: created user \"admin\" with password %s\n(set PORTICO_ADMIN_PASSWORD to choose it; this is the only time it is shown)\n", generated)
	}
	return nil
}

// claimSecretKey records keyID as the store's secret key on first start
// and refuses any other afterwards. A store from before the record
// names its key by what it sealed.
func claimSecretKey(ctx context.Context, tx store.Tx, keyID string) error {
	have, err := tx.GetSetting(ctx, store.SettingSecretKeyID)
	if errors.Is(err, store.ErrNotFound) {
		sealed, serr := tx.SealedSample(ctx)
		switch {
		case errors.Is(serr, store.ErrNotFound):
			return tx.PutSetting(ctx, store.SettingSecretKeyID, keyID)
		case serr != nil:
			return serr
		}
		have, err = credential.SealedKeyID(sealed), nil
		if have == keyID {
			return tx.PutSetting(ctx, store.SettingSecretKeyID, keyID)
		}
	}
	switch {
	case err != nil:
		return err
	case have != keyID:
		return fmt.Errorf("this control plane's secret key (id %s) is not the one that sealed the store's secrets (id %s): "+
			"start every control plane of a store with the same key (%s, or the same %s in --data-dir)", keyID, have, credential.EnvKey, credential.KeyFile)
	}
	return nil
}
