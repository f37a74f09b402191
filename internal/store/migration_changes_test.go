package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/migrations"
)

// TestMigrationRevisionChanges: groups that exist when the change log and
// the route-shape index arrive have a log complete from their current
// revision on, and an index that is complete only if they run nothing.
func TestMigrationRevisionChanges(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "portico.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatalf("migrate to 12: %v", err)
	}
	for _, q := range []string{
		`UPDATE counters SET value = 7 WHERE name = 'revision'`,
		`INSERT INTO projects (id, name, description, test_group, production_group, created_at, updated_at)
			VALUES ('p1', 'p1', '', '', '', 1, 1)`,
		`INSERT INTO gateway_groups (name, path_prefix, description, revision, created_at, updated_at)
			VALUES ('busy', '', '', 7, 1, 1), ('idle', '', '', 3, 1, 1)`,
		`INSERT INTO services (id, project_id, name, description, labels, protocols, path, hosts, plugins, upstream_id,
			upstream, state, created_at, updated_at) VALUES ('s1', 'p1', 'orders', '', 'null', 'null', '/orders', 'null',
			'null', NULL, 'null', 'published', 1, 1)`,
		`INSERT INTO versions (id, project_id, service_id, version, service, created_by, created_at)
			VALUES ('v1', 'p1', 's1', '1', '{"id":"s1","project_id":"p1","name":"orders","path":"/orders"}', 'x', 1)`,
		`INSERT INTO deployments (group_name, project_id, service_id, version, upstream, updated_at)
			VALUES ('busy', 'p1', 's1', '1', '{}', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openSQLite(t, dir)
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	view := func(fn func(ctx context.Context, tx store.Tx) error) {
		t.Helper()
		if err := s.View(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
	}
	view(func(ctx context.Context, tx store.Tx) error {
		for group, want := range map[string]bool{"busy": false, "idle": true} {
			complete, err := tx.RouteShapesComplete(ctx, group)
			if err != nil {
				return err
			}
			if complete != want {
				t.Errorf("%s: route shapes complete %v, want %v", group, complete, want)
			}
		}
		for _, c := range []struct {
			group     string
			after     int64
			wantWhole bool
		}{
			{"busy", 7, false}, {"busy", 6, true}, {"busy", 0, true}, {"idle", 3, false}, {"idle", 2, true},
		} {
			ids, whole, err := tx.ChangedSince(ctx, c.group, c.after, 10)
			if err != nil {
				return err
			}
			if whole != c.wantWhole || len(ids) != 0 {
				t.Errorf("ChangedSince(%s, %d) = %v whole %v; want none, whole %v", c.group, c.after, ids, whole, c.wantWhole)
			}
		}
		return nil
	})

	shape := store.RouteShape{Shape: "/orders", Path: "/orders", ProjectID: "p1", ServiceID: "s1", ServiceName: "orders", RouteName: "list"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ResetRouteShapes(ctx, "busy", []store.RouteShape{shape}); err != nil {
			return err
		}
		_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "busy", Services: []string{"s1"}})
		return err
	})
	view(func(ctx context.Context, tx store.Tx) error {
		complete, err := tx.RouteShapesComplete(ctx, "busy")
		if err != nil || !complete {
			t.Errorf("busy after a reset: complete %v, %v", complete, err)
		}
		found, err := tx.FindRouteShapes(ctx, "busy", []string{"/orders"}, "")
		if diff := cmp.Diff([]store.RouteShape{shape}, found); err != nil || diff != "" {
			t.Errorf("FindRouteShapes after a reset: %v (-want +got):\n%s", err, diff)
		}
		ids, whole, err := tx.ChangedSince(ctx, "busy", 7, 10)
		if err != nil || whole || !cmp.Equal(ids, []string{"s1"}) {
			t.Errorf("ChangedSince(busy, 7) after a bump = %v whole %v, %v; want [s1]", ids, whole, err)
		}
		return nil
	})
}
