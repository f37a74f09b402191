package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testRegistries: a group's registry connections are stored without any
// credential in clear (only sealed, and flags saying which is set), found
// by id or name, listed in creation order, renamed, deleted, gone with
// their group, and carried in the group's snapshot with the credentials
// sealed.
func testRegistries(t *testing.T, s store.Store) {
	var consul, dns, other spec.Registry
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []string{"production", "test"} {
			wantErr(t, "CreateGroup "+g, tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}), nil)
		}
		consul = spec.Registry{Group: "production", Name: "consul", Type: "consul", Address: "https://consul.internal:8501",
			Namespace: "team", CA: "PEM-ca", Token: "clear token", HasToken: true, Sealed: "v1.k.sealed-consul", PollInterval: 10,
			Status: []spec.RegistryStatus{{Instance: "gw-1", Registry: "consul", Healthy: true}}}
		wantErr(t, "CreateRegistry", tx.CreateRegistry(ctx, &consul), nil)
		if consul.ID == "" || consul.CreatedAt.IsZero() || !consul.UpdatedAt.Equal(consul.CreatedAt) {
			t.Errorf("created: id %q, created_at %v, updated_at %v", consul.ID, consul.CreatedAt, consul.UpdatedAt)
		}
		dns = spec.Registry{Group: "production", Name: "dns", Type: "dns", Address: "10.0.0.53:53"}
		wantErr(t, "CreateRegistry dns", tx.CreateRegistry(ctx, &dns), nil)
		dup := spec.Registry{Group: "production", Name: "consul", Type: "dns"}
		wantErr(t, "a second registry of that name", tx.CreateRegistry(ctx, &dup), store.ErrConflict)
		other = spec.Registry{Group: "test", Name: "consul", Type: "consul", Address: "http://consul:8500"}
		wantErr(t, "the same name in another group", tx.CreateRegistry(ctx, &other), nil)
		nogroup := spec.Registry{Group: "nope", Name: "x", Type: "dns"}
		wantErr(t, "a registry of a missing group", tx.CreateRegistry(ctx, &nogroup), store.ErrNotFound)

		for _, key := range []string{"consul", consul.ID} {
			got, err := tx.GetRegistry(ctx, "production", key)
			wantErr(t, "GetRegistry "+key, err, nil)
			want := consul
			want.Token, want.Status = "", nil // never stored in clear; status is the instances'
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetRegistry %s (-want +got):\n%s", key, diff)
			}
		}
		_, err := tx.GetRegistry(ctx, "test", consul.ID)
		wantErr(t, "GetRegistry through another group", err, store.ErrNotFound)
		_, err = tx.GetRegistry(ctx, "production", "nope")
		wantErr(t, "GetRegistry of a missing name", err, store.ErrNotFound)

		list, err := tx.ListRegistries(ctx, "production")
		wantErr(t, "ListRegistries", err, nil)
		if len(list) != 2 || list[0].Name != "consul" || list[1].Name != "dns" || list[1].Sealed != "" || list[1].HasToken {
			t.Errorf("ListRegistries(production) = %+v, want consul then dns (nothing sealed)", list)
		}
		if empty, err := tx.ListRegistries(ctx, "nope"); err != nil || empty == nil || len(empty) != 0 {
			t.Errorf("ListRegistries of a missing group = %#v, %v; want an empty list", empty, err)
		}

		consul.Address, consul.Sealed, consul.Token, consul.HasToken = "https://consul-2.internal:8501", "v1.k.sealed-consul-2", "", true
		created := consul.CreatedAt
		wantErr(t, "UpdateRegistry", tx.UpdateRegistry(ctx, &consul), nil)
		got, _ := tx.GetRegistry(ctx, "production", consul.ID)
		if got.Address != "https://consul-2.internal:8501" || got.Sealed != "v1.k.sealed-consul-2" || !got.HasToken ||
			!got.CreatedAt.Equal(created) || !consul.CreatedAt.Equal(created) || got.UpdatedAt.Before(created) {
			t.Errorf("after update: %+v", got)
		}
		missing := spec.Registry{ID: "no-such-id", Group: "production", Name: "x", Type: "dns"}
		wantErr(t, "UpdateRegistry of a missing one", tx.UpdateRegistry(ctx, &missing), store.ErrNotFound)

		snap, err := tx.Snapshot(ctx, []string{"production", "test"})
		wantErr(t, "Snapshot", err, nil)
		rs := snap.Groups[0].Registries
		if len(rs) != 2 || rs[0].Name != "consul" || rs[0].Sealed != "v1.k.sealed-consul-2" || rs[0].ID != consul.ID ||
			rs[0].Group != "" || !rs[0].CreatedAt.IsZero() || rs[0].Status != nil || rs[1].Name != "dns" {
			t.Errorf("snapshot registries %+v, want consul (sealed) and dns", rs)
		}
		for _, r := range rs {
			if r.Token != "" || r.Password != "" || r.Secret != "" || strings.Contains(r.Sealed, "clear") {
				t.Errorf("snapshot registry %s holds a credential in clear: %+v", r.Name, r)
			}
		}
		if len(snap.Groups[1].Registries) != 1 {
			t.Errorf("snapshot of test: registries %+v", snap.Groups[1].Registries)
		}
		part, err := tx.SnapshotServices(ctx, "production", nil)
		wantErr(t, "SnapshotServices", err, nil)
		if diff := cmp.Diff(rs, part.Registries); diff != "" {
			t.Errorf("SnapshotServices registries differ from Snapshot's (-whole +part):\n%s", diff)
		}
		sample, err := tx.SealedSample(ctx)
		wantErr(t, "SealedSample", err, nil)
		if sample != "v1.k.sealed-consul-2" {
			t.Errorf("SealedSample = %q, want the registry's credentials", sample)
		}
		return nil
	})
	// A failed statement ends a PostgreSQL transaction: one of its own.
	ctx := testCtx(t)
	renamed := consul
	renamed.Name = "dns"
	err := s.Tx(ctx, func(tx store.Tx) error { return tx.UpdateRegistry(ctx, &renamed) })
	wantErr(t, "a rename onto another's name", err, store.ErrConflict)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		renamed.Name = "consul-dc1"
		wantErr(t, "a rename", tx.UpdateRegistry(ctx, &renamed), nil)
		if got, err := tx.GetRegistry(ctx, "production", "consul-dc1"); err != nil || got.ID != consul.ID {
			t.Errorf("GetRegistry by its new name = %+v, %v", got, err)
		}
		wantErr(t, "DeleteRegistry", tx.DeleteRegistry(ctx, "production", dns.ID), nil)
		wantErr(t, "DeleteRegistry again", tx.DeleteRegistry(ctx, "production", dns.ID), store.ErrNotFound)
		wantErr(t, "DeleteRegistry through another group", tx.DeleteRegistry(ctx, "test", consul.ID), store.ErrNotFound)
		wantErr(t, "DeleteGroup test", tx.DeleteGroup(ctx, "test"), nil)
		_, err := tx.GetRegistry(ctx, "test", other.ID)
		wantErr(t, "a registry of a deleted group", err, store.ErrNotFound)
		snap, err := tx.Snapshot(ctx, []string{"production"})
		wantErr(t, "Snapshot", err, nil)
		if rs := snap.Groups[0].Registries; len(rs) != 1 || rs[0].Name != "consul-dc1" {
			t.Errorf("snapshot registries after the delete: %+v", rs)
		}
		return nil
	})
}
