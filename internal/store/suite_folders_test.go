package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// folder creates a folder in a transaction that must commit.
func folder(t *testing.T, s store.Store, f spec.Folder) spec.Folder {
	t.Helper()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateFolder(ctx, &f) })
	return f
}

func testFolders(t *testing.T, s store.Store) {
	seed(t, s)
	user := folder(t, s, spec.Folder{ProjectID: "p1", Name: "用户域", Path: "/user", Description: "users"})
	basic := folder(t, s, spec.Folder{ProjectID: "p1", ParentID: user.ID, Name: "基本信息", Path: "/user/basic"})
	ctx := testCtx(t)

	t.Run("get and list", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetFolder(ctx, "p1", basic.ID)
			wantErr(t, "GetFolder", err, nil)
			if diff := cmp.Diff(basic, got); diff != "" {
				t.Errorf("GetFolder (-want +got):\n%s", diff)
			}
			_, err = tx.GetFolder(ctx, "p2", basic.ID)
			wantErr(t, "GetFolder of another project", err, store.ErrNotFound)
			items, total, err := tx.ListFolders(ctx, "p1", store.ListQuery{})
			wantErr(t, "ListFolders", err, nil)
			if diff := cmp.Diff([]spec.Folder{user, basic}, items); diff != "" || total != 2 {
				t.Errorf("ListFolders total %d (-want +got):\n%s", total, diff)
			}
			items, total, err = tx.ListFolders(ctx, "p1", store.ListQuery{Q: "基本"})
			wantErr(t, "ListFolders q", err, nil)
			if len(items) != 1 || total != 1 || items[0].ID != basic.ID {
				t.Errorf("ListFolders q=基本 = %d %+v", total, items)
			}
			return nil
		})
	})

	t.Run("create refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    spec.Folder
			want error
		}{
			{"parent in another project", spec.Folder{ProjectID: "p2", ParentID: user.ID, Name: "x"}, store.ErrNotFound},
			{"missing parent", spec.Folder{ProjectID: "p1", ParentID: "nope", Name: "x"}, store.ErrNotFound},
			{"missing project", spec.Folder{ProjectID: "p9", Name: "x"}, store.ErrNotFound},
			{"sibling with the same name", spec.Folder{ProjectID: "p1", Name: "用户域"}, store.ErrConflict},
			{"child sibling with the same name", spec.Folder{ProjectID: "p1", ParentID: user.ID, Name: "基本信息"}, store.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateFolder(ctx, &tc.f) })
				wantErr(t, "CreateFolder", err, tc.want)
			})
		}
		// The same name elsewhere in the tree is fine.
		folder(t, s, spec.Folder{ProjectID: "p1", ParentID: basic.ID, Name: "用户域"})
		folder(t, s, spec.Folder{ProjectID: "p2", Name: "用户域"})
	})

	t.Run("update", func(t *testing.T) {
		upd := basic
		upd.Path, upd.Name, upd.ParentID = "/user/active", "活跃", ""
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateFolder(ctx, &upd) })
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetFolder(ctx, "p1", basic.ID)
			wantErr(t, "GetFolder", err, nil)
			if got.Path != "/user/active" || got.Name != "活跃" || got.ParentID != "" || !got.CreatedAt.Equal(basic.CreatedAt) {
				t.Errorf("after update: %+v", got)
			}
			return nil
		})
		// Put it back under user for the next cases.
		upd.ParentID = user.ID
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateFolder(ctx, &upd) })

		loop := user
		loop.ParentID = basic.ID
		err := s.Tx(ctx, func(tx store.Tx) error { return tx.UpdateFolder(ctx, &loop) })
		wantErr(t, "UpdateFolder into its own child", err, store.ErrConflict)
		missing := spec.Folder{ID: "nope", ProjectID: "p1", Name: "x"}
		err = s.Tx(ctx, func(tx store.Tx) error { return tx.UpdateFolder(ctx, &missing) })
		wantErr(t, "UpdateFolder missing", err, store.ErrNotFound)
	})

	t.Run("services carry their folder's current path", func(t *testing.T) {
		svc := spec.Service{ProjectID: "p1", Name: "user_info", Path: spec.DefaultPath, FolderID: basic.ID, State: spec.StateDraft}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateService(ctx, &svc); err != nil {
				return err
			}
			r := spec.Route{ServiceID: svc.ID, Name: "user_info"}
			if err := tx.CreateRoute(ctx, &r); err != nil {
				return err
			}
			svc.Routes = []spec.Route{r}
			return nil
		})
		svc.FolderPath = "/user/active"
		freeze(t, s, svc, "1.0.0")
		deploy(t, s, "team", svc, "1.0.0")

		// The folder's path changes: the template, the version and the
		// snapshot all see the new one.
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			f, err := tx.GetFolder(ctx, "p1", basic.ID)
			if err != nil {
				return err
			}
			f.Path = "/user/basic"
			return tx.UpdateFolder(ctx, &f)
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetService(ctx, "p1", svc.ID)
			wantErr(t, "GetService", err, nil)
			if got.FolderID != basic.ID || got.FolderPath != "/user/basic" {
				t.Errorf("GetService folder = %q %q", got.FolderID, got.FolderPath)
			}
			list, _, err := tx.ListServices(ctx, "p1", store.ListQuery{Q: "user_info"})
			wantErr(t, "ListServices", err, nil)
			if len(list) != 1 || list[0].FolderPath != "/user/basic" {
				t.Errorf("ListServices = %+v", list)
			}
			v, err := tx.GetVersion(ctx, svc.ID, "1.0.0")
			wantErr(t, "GetVersion", err, nil)
			if v.Service.FolderPath != "/user/basic" {
				t.Errorf("GetVersion folder path = %q, want the folder's current path", v.Service.FolderPath)
			}
			vs, err := tx.ListVersions(ctx, svc.ID)
			wantErr(t, "ListVersions", err, nil)
			if len(vs) != 1 || vs[0].Service.FolderPath != "/user/basic" {
				t.Errorf("ListVersions = %+v", vs)
			}
			snap, err := tx.Snapshot(ctx, []string{"team"})
			wantErr(t, "Snapshot", err, nil)
			if len(snap.Groups) != 1 || len(snap.Groups[0].Services) != 1 {
				t.Fatalf("snapshot = %+v", snap)
			}
			ds := snap.Groups[0].Services[0]
			got2 := spec.RoutePaths(snap.Groups[0].Group.PathPrefix, ds.ProjectID, &ds.Service, &ds.Service.Routes[0])
			if diff := cmp.Diff([]string{"/p1/user/basic/user_info"}, got2); diff != "" {
				t.Errorf("route paths in the snapshot (-want +got):\n%s", diff)
			}
			return nil
		})

		bad := spec.Service{ProjectID: "p1", Name: "lost", FolderID: "nope", State: spec.StateDraft}
		err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateService(ctx, &bad) })
		wantErr(t, "CreateService in a missing folder", err, store.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteFolder(ctx, "p1", user.ID) })
		wantErr(t, "DeleteFolder with a child folder", err, store.ErrConflict)
		err = s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteFolder(ctx, "p1", basic.ID) })
		wantErr(t, "DeleteFolder with a service", err, store.ErrConflict)
		err = s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteFolder(ctx, "p1", "nope") })
		wantErr(t, "DeleteFolder missing", err, store.ErrNotFound)
		err = s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteFolder(ctx, "p2", user.ID) })
		wantErr(t, "DeleteFolder of another project", err, store.ErrNotFound)

		empty := folder(t, s, spec.Folder{ProjectID: "p1", Name: "empty", Path: "/tag"})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFolder(ctx, "p1", empty.ID) })
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.GetFolder(ctx, "p1", empty.ID)
			wantErr(t, "GetFolder after delete", err, store.ErrNotFound)
			return nil
		})
	})
}
