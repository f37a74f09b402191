package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testGatewayInstances(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []string{"prod", "test"} {
			wantErr(t, "CreateGroup "+g, tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}), nil)
		}
		a := spec.GatewayInstance{ID: "a", Group: "prod", Hostname: "gw-1", Addresses: []string{"10.0.0.1:9080"}, Version: "v1",
			Engine: "fast", Revision: 3, StartedAt: t0, LastSeen: t0.Add(time.Minute), Interval: 10 * time.Second, Requests: 7, Errors: 1, TokenID: "tok-1"}
		wantErr(t, "PutGatewayInstance a", tx.PutGatewayInstance(ctx, &a), nil)
		emb := spec.GatewayInstance{ID: "embedded", Group: "prod", Embedded: true, Addresses: []string{}, StartedAt: t0, LastSeen: t0, FromCache: true, Detail: "x", Stopped: true}
		wantErr(t, "PutGatewayInstance embedded", tx.PutGatewayInstance(ctx, &emb), nil)
		other := spec.GatewayInstance{ID: "b", Group: "test", Addresses: []string{}, LastSeen: t0}
		wantErr(t, "PutGatewayInstance b", tx.PutGatewayInstance(ctx, &other), nil)
		// The same id in another group is another instance.
		sameID := spec.GatewayInstance{ID: "a", Group: "test", Addresses: []string{}, LastSeen: t0}
		wantErr(t, "PutGatewayInstance a of test", tx.PutGatewayInstance(ctx, &sameID), nil)
		if n, err := tx.CountGatewayInstances(ctx, "test"); err != nil || n != 2 {
			t.Errorf("CountGatewayInstances(test) = %d, %v; want 2", n, err)
		}
		nogroup := spec.GatewayInstance{ID: "c", Group: "nope", Addresses: []string{}}
		wantErr(t, "an instance of a missing group", tx.PutGatewayInstance(ctx, &nogroup), store.ErrNotFound)

		// A heartbeat replaces the row.
		a.Revision, a.LastSeen, a.Requests, a.TokenID = 4, t0.Add(2*time.Minute), 20, "tok-2"
		wantErr(t, "PutGatewayInstance a again", tx.PutGatewayInstance(ctx, &a), nil)
		got, err := tx.ListGatewayInstances(ctx, "prod")
		wantErr(t, "ListGatewayInstances", err, nil)
		if diff := cmp.Diff([]spec.GatewayInstance{a, emb}, got); diff != "" {
			t.Errorf("ListGatewayInstances (-want +got):\n%s", diff)
		}

		n, err := tx.PruneGatewayInstances(ctx, t0.Add(30*time.Second))
		wantErr(t, "PruneGatewayInstances", err, nil)
		if n != 3 {
			t.Errorf("pruned %d, want 3 (embedded, b and test's a)", n)
		}
		got, _ = tx.ListGatewayInstances(ctx, "prod")
		if len(got) != 1 || got[0].ID != "a" {
			t.Errorf("after prune: %+v", got)
		}
		return nil
	})
}
