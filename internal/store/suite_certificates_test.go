package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testCertificates(t *testing.T, s store.Store) {
	nb := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var api, www, other spec.Certificate
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []string{"production", "test"} {
			wantErr(t, "CreateGroup "+g, tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}), nil)
		}
		api = spec.Certificate{Group: "production", Name: "api", Chain: "PEM-api", Key: "clear key", Sealed: "v1.k.sealed-api",
			Default: true, Names: []string{"api.example.com"}, NotBefore: nb, NotAfter: nb.AddDate(0, 3, 0)}
		wantErr(t, "CreateCertificate", tx.CreateCertificate(ctx, &api), nil)
		if api.ID == "" || api.CreatedAt.IsZero() {
			t.Errorf("created: id %q, created_at %v", api.ID, api.CreatedAt)
		}
		www = spec.Certificate{Group: "production", Name: "www", Chain: "PEM-www", Sealed: "v1.k.sealed-www", Default: true}
		wantErr(t, "a second default", tx.CreateCertificate(ctx, &www), nil)
		dup := spec.Certificate{Group: "production", Name: "api", Chain: "x", Sealed: "y"}
		wantErr(t, "a second certificate of that name", tx.CreateCertificate(ctx, &dup), store.ErrConflict)
		other = spec.Certificate{Group: "test", Name: "api", Chain: "x", Sealed: "y"}
		wantErr(t, "the same name in another group", tx.CreateCertificate(ctx, &other), nil)
		nogroup := spec.Certificate{Group: "nope", Name: "x", Chain: "x", Sealed: "y"}
		wantErr(t, "a certificate of a missing group", tx.CreateCertificate(ctx, &nogroup), store.ErrNotFound)

		got, err := tx.GetCertificate(ctx, "production", "api")
		wantErr(t, "GetCertificate by name", err, nil)
		want := api
		want.Key, want.Default = "", false // the key is never stored in clear; www took the default over
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetCertificate (-want +got):\n%s", diff)
		}
		_, err = tx.GetCertificate(ctx, "test", api.ID)
		wantErr(t, "GetCertificate through another group", err, store.ErrNotFound)

		list, err := tx.ListCertificates(ctx, "production")
		wantErr(t, "ListCertificates", err, nil)
		if len(list) != 2 || list[0].Name != "api" || list[1].Name != "www" || list[0].Default || !list[1].Default {
			t.Errorf("ListCertificates(production) = %+v, want api then www (the default)", list)
		}

		api.Default, api.Chain, api.Sealed = true, "PEM-api-2", "v1.k.sealed-api-2"
		wantErr(t, "UpdateCertificate", tx.UpdateCertificate(ctx, &api), nil)
		got, _ = tx.GetCertificate(ctx, "production", api.ID)
		www, _ = tx.GetCertificate(ctx, "production", www.ID)
		if got.Chain != "PEM-api-2" || got.Sealed != "v1.k.sealed-api-2" || !got.Default || www.Default {
			t.Errorf("after update: api %+v, www default %v", got, www.Default)
		}

		snap, err := tx.Snapshot(ctx, []string{"production"})
		wantErr(t, "Snapshot", err, nil)
		if cs := snap.Groups[0].Certificates; len(cs) != 2 || cs[0].Sealed != "v1.k.sealed-api-2" || cs[0].Key != "" {
			t.Errorf("snapshot certificates %+v, want both, keys sealed", cs)
		}
		sample, err := tx.SealedSample(ctx)
		wantErr(t, "SealedSample", err, nil)
		if sample == "" {
			t.Error("SealedSample is empty")
		}

		return nil
	})
	// A failed statement ends a PostgreSQL transaction: one of its own.
	ctx := testCtx(t)
	renamed := api
	renamed.Name = "www"
	err := s.Tx(ctx, func(tx store.Tx) error { return tx.UpdateCertificate(ctx, &renamed) })
	wantErr(t, "a rename onto another's name", err, store.ErrConflict)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "DeleteCertificate", tx.DeleteCertificate(ctx, "production", www.ID), nil)
		wantErr(t, "DeleteCertificate again", tx.DeleteCertificate(ctx, "production", www.ID), store.ErrNotFound)
		wantErr(t, "DeleteGroup test", tx.DeleteGroup(ctx, "test"), nil)
		_, err := tx.GetCertificate(ctx, "test", other.ID)
		wantErr(t, "a certificate of a deleted group", err, store.ErrNotFound)
		return nil
	})
}
