package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testDataSources(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }
	get := func(t *testing.T, project, idOrName string) (spec.DataSource, error) {
		t.Helper()
		var d spec.DataSource
		err := s.Tx(ctx, func(tx store.Tx) error {
			var err error
			d, err = tx.GetDataSource(ctx, project, idOrName)
			return err
		})
		return d, err
	}

	full := spec.DataSource{
		ProjectID: "p1", Name: "orders-db", Description: "the orders database", Type: "postgres",
		Host: "db.internal", Port: 5432, Database: "orders", User: "reader",
		Password: "plain-text", Params: map[string]string{"sslmode": "disable"},
		Pool:   &spec.DataSourcePool{MaxOpen: 5, MaxIdle: 2},
		Sealed: "sealed-password-1",
	}
	wantErr(t, "CreateDataSource", try(func(tx store.Tx) error { return tx.CreateDataSource(ctx, &full) }), nil)
	// What a read returns: the sealed password, never the plain one.
	stored := full
	stored.Password, stored.HasPassword = "", true

	t.Run("create and get by id and name", func(t *testing.T) {
		if full.ID == "" || full.CreatedAt.IsZero() {
			t.Fatalf("created data source = %+v, want an id and a creation time", full)
		}
		for _, key := range []string{full.ID, full.Name} {
			got, err := get(t, "p1", key)
			wantErr(t, "GetDataSource "+key, err, nil)
			if diff := cmp.Diff(stored, got); diff != "" {
				t.Errorf("GetDataSource %s (-want +got):\n%s", key, diff)
			}
		}
		_, err := get(t, "p2", full.ID)
		wantErr(t, "GetDataSource through another project", err, store.ErrNotFound)
		_, err = get(t, "p1", "nope")
		wantErr(t, "GetDataSource of a missing one", err, store.ErrNotFound)

		var items []spec.DataSource
		var total int
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			items, total, err = tx.ListDataSources(ctx, "p1", store.ListQuery{})
			return err
		})
		if diff := cmp.Diff([]spec.DataSource{stored}, items); diff != "" || total != 1 {
			t.Errorf("ListDataSources of p1: total %d (want 1), items (-want +got):\n%s", total, diff)
		}
	})

	t.Run("conflicts", func(t *testing.T) {
		dup := spec.DataSource{ProjectID: "p1", Name: "orders-db", Type: "mysql", Host: "h", Database: "d", User: "u"}
		wantErr(t, "same name, same project", try(func(tx store.Tx) error { return tx.CreateDataSource(ctx, &dup) }), store.ErrConflict)
		elsewhere := spec.DataSource{ProjectID: "p2", Name: "orders-db", Type: "mysql", Host: "h", Database: "d", User: "u"}
		wantErr(t, "same name, other project", try(func(tx store.Tx) error { return tx.CreateDataSource(ctx, &elsewhere) }), nil)
		orphan := spec.DataSource{ProjectID: "nope", Name: "x", Type: "mysql", Host: "h", Database: "d", User: "u"}
		wantErr(t, "unknown project", try(func(tx store.Tx) error { return tx.CreateDataSource(ctx, &orphan) }), store.ErrNotFound)

		second := spec.DataSource{ProjectID: "p1", Name: "billing-db", Type: "mysql", Host: "h", Database: "d", User: "u"}
		wantErr(t, "second in p1", try(func(tx store.Tx) error { return tx.CreateDataSource(ctx, &second) }), nil)
		rename := second
		rename.Name = "orders-db"
		wantErr(t, "rename onto a taken name", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &rename) }), store.ErrConflict)
		got, err := get(t, "p1", second.ID)
		wantErr(t, "GetDataSource after the refused rename", err, nil)
		if got.Name != "billing-db" {
			t.Errorf("name after the refused rename = %q, want billing-db", got.Name)
		}
	})

	t.Run("update keeps the sealed password", func(t *testing.T) {
		cur, err := get(t, "p1", full.ID)
		wantErr(t, "GetDataSource", err, nil)
		// An edit without a new password carries the sealed one over.
		upd := cur
		upd.Name, upd.Host, upd.Params, upd.Pool, upd.HasPassword = "orders-main", "db2.internal", nil, nil, false
		wantErr(t, "UpdateDataSource", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &upd) }), nil)
		got, err := get(t, "p1", "orders-main")
		wantErr(t, "GetDataSource by the new name", err, nil)
		want := upd
		want.HasPassword = true
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after update (-want +got):\n%s", diff)
		}
		if got.Sealed != full.Sealed || !got.CreatedAt.Equal(full.CreatedAt) {
			t.Errorf("after update: sealed %q (want %q), created %v (want %v)", got.Sealed, full.Sealed, got.CreatedAt, full.CreatedAt)
		}
		_, err = get(t, "p1", "orders-db")
		wantErr(t, "GetDataSource by the old name", err, store.ErrNotFound)

		// A new sealed password replaces it; none clears it.
		upd = got
		upd.Sealed = "sealed-password-2"
		wantErr(t, "new password", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &upd) }), nil)
		if got, _ := get(t, "p1", full.ID); got.Sealed != "sealed-password-2" || !got.HasPassword {
			t.Errorf("after a new password: sealed %q, has_password %v", got.Sealed, got.HasPassword)
		}
		upd.Sealed = ""
		wantErr(t, "no password", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &upd) }), nil)
		if got, _ := get(t, "p1", full.ID); got.Sealed != "" || got.HasPassword {
			t.Errorf("after clearing the password: sealed %q, has_password %v", got.Sealed, got.HasPassword)
		}

		missing := upd
		missing.ID = "nope"
		wantErr(t, "UpdateDataSource of a missing id", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &missing) }), store.ErrNotFound)
		other := upd
		other.ProjectID = "p2"
		wantErr(t, "UpdateDataSource through another project", try(func(tx store.Tx) error { return tx.UpdateDataSource(ctx, &other) }), store.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, "DeleteDataSource through another project",
			try(func(tx store.Tx) error { return tx.DeleteDataSource(ctx, "p2", full.ID) }), store.ErrNotFound)
		wantErr(t, "DeleteDataSource", try(func(tx store.Tx) error { return tx.DeleteDataSource(ctx, "p1", full.ID) }), nil)
		_, err := get(t, "p1", full.ID)
		wantErr(t, "GetDataSource after delete", err, store.ErrNotFound)
		wantErr(t, "DeleteDataSource again",
			try(func(tx store.Tx) error { return tx.DeleteDataSource(ctx, "p1", full.ID) }), store.ErrNotFound)
	})
}

func testDataSourceMaps(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders", "list")
	billing := newService(t, s, "p1", "billing", "pay")
	ctx := testCtx(t)
	testDB := spec.DataSource{ProjectID: "p1", Name: "test-db", Type: "postgres", Host: "h", Database: "d", User: "u"}
	prodDB := spec.DataSource{ProjectID: "p1", Name: "prod-db", Type: "postgres", Host: "h", Database: "d", User: "u"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateDataSource(ctx, &testDB); err != nil {
			return err
		}
		return tx.CreateDataSource(ctx, &prodDB)
	})
	put := func(t *testing.T, group, service string, m map[string]string) error {
		t.Helper()
		return s.Tx(ctx, func(tx store.Tx) error { return tx.PutDataSourceMap(ctx, group, service, m) })
	}
	maps := func(t *testing.T) map[string]map[string]string {
		t.Helper()
		out := map[string]map[string]string{}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, g := range []string{"default", "team"} {
				for _, svc := range []spec.Service{orders, billing} {
					m, err := tx.GetDataSourceMap(ctx, g, svc.ID)
					if err != nil {
						return err
					}
					if m == nil {
						t.Errorf("GetDataSourceMap %s in %s = nil, want an empty map", svc.Name, g)
					}
					out[g+"/"+svc.Name] = m
				}
			}
			return nil
		})
		return out
	}
	empty := map[string]string{}

	t.Run("none is empty", func(t *testing.T) {
		want := map[string]map[string]string{"default/orders": empty, "default/billing": empty, "team/orders": empty, "team/billing": empty}
		if diff := cmp.Diff(want, maps(t)); diff != "" {
			t.Errorf("maps before any put (-want +got):\n%s", diff)
		}
	})

	t.Run("set per group and service", func(t *testing.T) {
		wantErr(t, "put default/orders", put(t, "default", orders.ID, map[string]string{"orders-db": testDB.ID}), nil)
		wantErr(t, "put team/orders", put(t, "team", orders.ID, map[string]string{"orders-db": prodDB.ID, testDB.ID: prodDB.ID}), nil)
		want := map[string]map[string]string{
			"default/orders":  {"orders-db": testDB.ID},
			"team/orders":     {"orders-db": prodDB.ID, testDB.ID: prodDB.ID},
			"default/billing": empty, "team/billing": empty,
		}
		if diff := cmp.Diff(want, maps(t)); diff != "" {
			t.Errorf("maps (-want +got):\n%s", diff)
		}

		// A put replaces the whole map, it does not merge.
		wantErr(t, "replace team/orders", put(t, "team", orders.ID, map[string]string{"ledger": prodDB.ID}), nil)
		want["team/orders"] = map[string]string{"ledger": prodDB.ID}
		if diff := cmp.Diff(want, maps(t)); diff != "" {
			t.Errorf("maps after a replacing put (-want +got):\n%s", diff)
		}

		var users []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			users, err = tx.DataSourceUsers(ctx, &prodDB)
			return err
		})
		if diff := cmp.Diff([]string{"orders in team (data-source map)"}, users); diff != "" {
			t.Errorf("DataSourceUsers of prod-db (-want +got):\n%s", diff)
		}

		if err := put(t, "default", "nope", map[string]string{"a": testDB.ID}); err == nil {
			t.Error("a map for a missing service was stored")
		}
	})

	t.Run("clear", func(t *testing.T) {
		wantErr(t, "clear default/orders", put(t, "default", orders.ID, nil), nil)
		wantErr(t, "clear a map never set", put(t, "default", billing.ID, map[string]string{}), nil)
		got := maps(t)
		if diff := cmp.Diff(empty, got["default/orders"]); diff != "" {
			t.Errorf("default/orders after clear (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"ledger": prodDB.ID}, got["team/orders"]); diff != "" {
			t.Errorf("clearing default/orders touched team/orders (-want +got):\n%s", diff)
		}

		// The maps of a deleted service go with it.
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteService(ctx, "p1", orders.ID) })
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			m, err := tx.GetDataSourceMap(ctx, "team", orders.ID)
			if err == nil && len(m) != 0 {
				t.Errorf("map of a deleted service = %v, want none", m)
			}
			return err
		})
	})
}
