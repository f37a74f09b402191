package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testGatewayTokens(t *testing.T, s store.Store) {
	var eu spec.GatewayToken
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []string{"production", "test"} {
			wantErr(t, "CreateGroup "+g, tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}), nil)
		}
		eu = spec.GatewayToken{Group: "production", Name: "eu-west", Hint: "abcd", CreatedBy: "admin", Token: "ptg_secret"}
		wantErr(t, "CreateGatewayToken", tx.CreateGatewayToken(ctx, &eu, "hash-eu"), nil)
		if eu.ID == "" || eu.CreatedAt.IsZero() || eu.Token != "" {
			t.Errorf("created token: id %q, created_at %v, token %q (want an id, a time and no token)", eu.ID, eu.CreatedAt, eu.Token)
		}
		dup := spec.GatewayToken{Group: "production", Name: "eu-west"}
		wantErr(t, "a second token of that name", tx.CreateGatewayToken(ctx, &dup, "hash-other"), store.ErrConflict)
		same := spec.GatewayToken{Group: "test", Name: "eu-west"}
		wantErr(t, "the same hash twice", tx.CreateGatewayToken(ctx, &same, "hash-eu"), store.ErrConflict)
		wantErr(t, "the same name in another group", tx.CreateGatewayToken(ctx, &same, "hash-test"), nil)
		nogroup := spec.GatewayToken{Group: "nope", Name: "x"}
		wantErr(t, "a token of a missing group", tx.CreateGatewayToken(ctx, &nogroup, "hash-x"), store.ErrNotFound)
		old := spec.GatewayToken{Group: "production", Name: "expired", ExpiresAt: time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)}
		wantErr(t, "an expired token", tx.CreateGatewayToken(ctx, &old, "hash-old"), nil)

		got, err := tx.GetGatewayToken(ctx, "production", eu.ID)
		wantErr(t, "GetGatewayToken", err, nil)
		if diff := cmp.Diff(eu, got); diff != "" {
			t.Errorf("GetGatewayToken (-want +got):\n%s", diff)
		}
		_, err = tx.GetGatewayToken(ctx, "test", eu.ID)
		wantErr(t, "GetGatewayToken through another group", err, store.ErrNotFound)

		list, err := tx.ListGatewayTokens(ctx, "production")
		wantErr(t, "ListGatewayTokens", err, nil)
		if len(list) != 2 || list[0].Name != "eu-west" || list[1].Name != "expired" {
			t.Errorf("ListGatewayTokens(production) = %+v, want eu-west then expired", list)
		}

		byHash, err := tx.GatewayTokenByHash(ctx, "hash-eu")
		wantErr(t, "GatewayTokenByHash", err, nil)
		if byHash.ID != eu.ID || byHash.Group != "production" {
			t.Errorf("GatewayTokenByHash = %+v, want %s of production", byHash, eu.ID)
		}
		_, err = tx.GatewayTokenByHash(ctx, "hash-old")
		wantErr(t, "GatewayTokenByHash of an expired token", err, store.ErrNotFound)
		_, err = tx.GatewayTokenByHash(ctx, "hash-none")
		wantErr(t, "GatewayTokenByHash of nothing", err, store.ErrNotFound)

		used := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		wantErr(t, "TouchGatewayToken", tx.TouchGatewayToken(ctx, eu.ID, used), nil)
		got, _ = tx.GetGatewayToken(ctx, "production", eu.ID)
		if !got.LastUsedAt.Equal(used) {
			t.Errorf("last used %v, want %v", got.LastUsedAt, used)
		}
		wantErr(t, "TouchGatewayToken of nothing", tx.TouchGatewayToken(ctx, "nope", used), store.ErrNotFound)

		wantErr(t, "DeleteGatewayToken through another group", tx.DeleteGatewayToken(ctx, "test", eu.ID), store.ErrNotFound)
		wantErr(t, "DeleteGatewayToken", tx.DeleteGatewayToken(ctx, "production", eu.ID), nil)
		_, err = tx.GatewayTokenByHash(ctx, "hash-eu")
		wantErr(t, "GatewayTokenByHash after revoke", err, store.ErrNotFound)
		return nil
	})
	// A group's tokens go with it.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "DeleteGroup test", tx.DeleteGroup(ctx, "test"), nil)
		_, err := tx.GatewayTokenByHash(ctx, "hash-test")
		wantErr(t, "a token of a deleted group", err, store.ErrNotFound)
		return nil
	})
}
