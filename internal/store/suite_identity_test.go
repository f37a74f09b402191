package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	alice := spec.User{Username: "alice", Role: "admin"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, &alice, "hash-a")
	})
	if alice.ID == "" || alice.CreatedAt.IsZero() {
		t.Fatalf("CreateUser did not fill ID and CreatedAt: %+v", alice)
	}

	t.Run("lookups", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, hash, err := tx.UserByName(ctx, "alice")
			wantErr(t, "UserByName", err, nil)
			if diff := cmp.Diff(alice, got); diff != "" {
				t.Errorf("UserByName (-want +got):\n%s", diff)
			}
			if hash != "hash-a" {
				t.Errorf("password hash = %q, want %q", hash, "hash-a")
			}
			got, err = tx.GetUser(ctx, alice.ID)
			wantErr(t, "GetUser", err, nil)
			if diff := cmp.Diff(alice, got); diff != "" {
				t.Errorf("GetUser (-want +got):\n%s", diff)
			}
			n, err := tx.CountUsers(ctx)
			wantErr(t, "CountUsers", err, nil)
			if n != 1 {
				t.Errorf("CountUsers = %d, want 1", n)
			}
			return nil
		})
	})

	t.Run("errors", func(t *testing.T) {
		ctx := testCtx(t)
		cases := []struct {
			name string
			fn   func(tx store.Tx) error
			want error
		}{
			{"duplicate username", func(tx store.Tx) error {
				return tx.CreateUser(ctx, &spec.User{Username: "alice", Role: "viewer"}, "x")
			}, store.ErrConflict},
			{"unknown username", func(tx store.Tx) error { _, _, err := tx.UserByName(ctx, "bob"); return err }, store.ErrNotFound},
			{"unknown id", func(tx store.Tx) error { _, err := tx.GetUser(ctx, "nope"); return err }, store.ErrNotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantErr(t, c.name, s.Tx(ctx, c.fn), c.want)
			})
		}
	})
}

func testTokens(t *testing.T, s store.Store) {
	u := spec.User{Username: "alice", Role: "admin"}
	past := time.Now().Add(-time.Minute).UTC()
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	live := store.Token{UserID: "", Hash: "h-live", Name: "session", ExpiresAt: future}
	forever := store.Token{Hash: "h-forever", Name: "ci"}
	expired := store.Token{Hash: "h-expired", Name: "old", ExpiresAt: past}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, &u, "x"); err != nil {
			return err
		}
		for _, tok := range []*store.Token{&live, &forever, &expired} {
			tok.UserID = u.ID
			if err := tx.CreateToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
	if live.ID == "" || live.CreatedAt.IsZero() {
		t.Fatalf("CreateToken did not fill ID and CreatedAt: %+v", live)
	}

	ctx := testCtx(t)
	cases := []struct {
		name string
		hash string
		want *store.Token
	}{
		{"live", "h-live", &live},
		{"never expires", "h-forever", &forever},
		{"expired", "h-expired", nil},
		{"unknown", "h-unknown", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Tx(ctx, func(tx store.Tx) error {
				tok, gotUser, err := tx.TokenByHash(ctx, c.hash)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(*c.want, tok); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(u, gotUser); diff != "" {
					t.Errorf("user (-want +got):\n%s", diff)
				}
				return nil
			})
			if c.want == nil {
				wantErr(t, "TokenByHash", err, store.ErrNotFound)
			} else {
				wantErr(t, "TokenByHash", err, nil)
			}
		})
	}

	t.Run("duplicate hash", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: "h-live", Name: "again"})
		})
		wantErr(t, "CreateToken", err, store.ErrConflict)
	})
	t.Run("unknown user", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error {
			return tx.CreateToken(ctx, &store.Token{UserID: "ghost", Hash: "h-ghost", Name: "x"})
		})
		wantErr(t, "CreateToken", err, store.ErrNotFound)
	})
	t.Run("delete", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteToken(ctx, "h-live") })
		err := s.Tx(ctx, func(tx store.Tx) error { _, _, err := tx.TokenByHash(ctx, "h-live"); return err })
		wantErr(t, "TokenByHash after delete", err, store.ErrNotFound)
		err = s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteToken(ctx, "h-live") })
		wantErr(t, "second DeleteToken", err, store.ErrNotFound)
	})
}

func testProjects(t *testing.T, s store.Store) {
	p := spec.Project{ID: "shop", Name: "Shop", Description: "d", TestGroup: "default", ProductionGroup: "prod"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateProject(ctx, &p) })
	if p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Fatalf("CreateProject timestamps: %+v", p)
	}
	ctx := testCtx(t)

	t.Run("get", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetProject(ctx, "shop")
			wantErr(t, "GetProject", err, nil)
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("GetProject (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	t.Run("update keeps CreatedAt", func(t *testing.T) {
		upd := spec.Project{ID: "shop", Name: "Shop 2", TestGroup: "default", ProductionGroup: "default"}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateProject(ctx, &upd) })
		if !upd.CreatedAt.Equal(p.CreatedAt) {
			t.Errorf("CreatedAt = %v, want %v", upd.CreatedAt, p.CreatedAt)
		}
		if upd.UpdatedAt.Before(p.UpdatedAt) {
			t.Errorf("UpdatedAt %v went back from %v", upd.UpdatedAt, p.UpdatedAt)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetProject(ctx, "shop")
			wantErr(t, "GetProject", err, nil)
			if diff := cmp.Diff(upd, got); diff != "" {
				t.Errorf("after update (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"duplicate id", func(tx store.Tx) error { return tx.CreateProject(ctx, &spec.Project{ID: "shop", Name: "x"}) }, store.ErrConflict},
		{"get missing", func(tx store.Tx) error { _, err := tx.GetProject(ctx, "nope"); return err }, store.ErrNotFound},
		{"update missing", func(tx store.Tx) error { return tx.UpdateProject(ctx, &spec.Project{ID: "nope"}) }, store.ErrNotFound},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteProject(ctx, "nope") }, store.ErrNotFound},
		{"delete with an upstream", func(tx store.Tx) error {
			if err := tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "shop", Name: "u"}); err != nil {
				return err
			}
			return tx.DeleteProject(ctx, "shop")
		}, store.ErrConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}

	t.Run("delete", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteProject(ctx, "shop") })
		err := s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "shop"); return err })
		wantErr(t, "GetProject after delete", err, store.ErrNotFound)
	})
}

func testGroups(t *testing.T, s store.Store) {
	g := spec.GatewayGroup{Name: "prod", PathPrefix: "/{project}", Description: "production"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateGroup(ctx, &g) })
	ctx := testCtx(t)

	t.Run("update keeps revision and CreatedAt", func(t *testing.T) {
		var rev int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "prod"})
			return err
		})
		upd := spec.GatewayGroup{Name: "prod", PathPrefix: "/api/{project}", Revision: 999}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateGroup(ctx, &upd) })
		want := spec.GatewayGroup{Name: "prod", PathPrefix: "/api/{project}", TimeZone: "UTC", Revision: rev,
			CreatedAt: g.CreatedAt, UpdatedAt: upd.UpdatedAt}
		if diff := cmp.Diff(want, upd); diff != "" {
			t.Errorf("updated group (-want +got):\n%s", diff)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetGroup(ctx, "prod")
			wantErr(t, "GetGroup", err, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetGroup (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"duplicate name", func(tx store.Tx) error { return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "prod"}) }, store.ErrConflict},
		{"get missing", func(tx store.Tx) error { _, err := tx.GetGroup(ctx, "nope"); return err }, store.ErrNotFound},
		{"update missing", func(tx store.Tx) error { return tx.UpdateGroup(ctx, &spec.GatewayGroup{Name: "nope"}) }, store.ErrNotFound},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteGroup(ctx, "nope") }, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}

	t.Run("list", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "staging"}); err != nil {
				return err
			}
			got, total, err := tx.ListGroups(ctx, store.ListQuery{})
			wantErr(t, "ListGroups", err, nil)
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if diff := cmp.Diff([]string{"prod", "staging"}, names); diff != "" || total != 2 {
				t.Errorf("ListGroups total %d (-want +got):\n%s", total, diff)
			}
			return nil
		})
	})

	t.Run("delete", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, "staging") })
		err := s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetGroup(ctx, "staging"); return err })
		wantErr(t, "GetGroup after delete", err, store.ErrNotFound)
	})
}
