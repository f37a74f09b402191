// Package webpagetest sets up what the page tests of the console and the
// portal stand on: a fresh store holding the first users, for the real
// admin API to run over.
package webpagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// User is an account the store starts with.
type User struct {
	Name, Role, Password string
}

// Seed is what the store starts with.
type Seed struct {
	// FirstStart makes what a first start of portico server makes beside
	// its admin: the default gateway group and the default project.
	FirstStart bool
	Users      []User
}

// NewStore opens a fresh SQLite store in tb's temporary directory, closed
// when tb ends, holding seed.
func NewStore(tb testing.TB, seed Seed) store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(tb), nil)
	if err != nil {
		tb.Fatalf("OpenSQLite: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	hashes := make([]string, len(seed.Users))
	for i, u := range seed.Users {
		if hashes[i], err = adminapi.HashPassword(u.Password); err != nil {
			tb.Fatal(err)
		}
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if seed.FirstStart {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: spec.DefaultGroup}); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			p := &spec.Project{ID: spec.DefaultProject, Name: spec.DefaultProject, TestGroup: spec.DefaultGroup, ProductionGroup: spec.DefaultGroup}
			if err := tx.CreateProject(ctx, p); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		for i, u := range seed.Users {
			if err := tx.CreateUser(ctx, &spec.User{Username: u.Name, Role: u.Role}, hashes[i]); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed the store: %v", err)
	}
	return st
}
