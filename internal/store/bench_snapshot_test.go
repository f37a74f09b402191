package store_test

import (
	"fmt"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// BenchmarkGroupSnapshot compares, in a group of 10 000 services of 10
// routes with 201 consumers, the whole snapshot with the partial one of
// one service (and of 100) that a publish of that service now needs, and
// times the change-log lookup a gateway's update starts with.
func BenchmarkGroupSnapshot(b *testing.B) {
	ctx := b.Context()
	s, err := store.OpenSQLite(ctx, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	err = s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateProject(ctx, &spec.Project{ID: "p1", Name: "p1"}); err != nil {
			return err
		}
		return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "default"})
	})
	if err != nil {
		b.Fatal(err)
	}
	ids, err := store.BulkDeploy(ctx, s, "default", "p1", "svc", 10000, 10)
	if err != nil {
		b.Fatal(err)
	}
	// Consumers: the project's own application and 200 subscribers.
	err = s.Tx(ctx, func(tx store.Tx) error {
		for i := range 201 {
			a := spec.Application{Name: fmt.Sprintf("app-%d", i), Owner: fmt.Sprintf("u-%d", i)}
			if i == 0 {
				a.ProjectID = "p1"
			}
			if err := tx.CreateApplication(ctx, &a); err != nil {
				return err
			}
			c := spec.Credential{ApplicationID: a.ID, Type: spec.CredKeyAuth}
			if err := tx.CreateCredential(ctx, &c, store.CredentialSecret{Lookup: a.Name}); err != nil {
				return err
			}
			if i > 0 {
				sub := spec.Subscription{ApplicationID: a.ID, ServiceID: ids[i*37], ProjectID: "p1", State: spec.SubscriptionApproved}
				if err := tx.CreateSubscription(ctx, &sub); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	view := func(b *testing.B, fn func(tx store.Tx) error) {
		if err := s.View(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Snapshot", func(b *testing.B) {
		for b.Loop() {
			view(b, func(tx store.Tx) error { _, err := tx.Snapshot(ctx, []string{"default"}); return err })
		}
	})
	for _, n := range []int{1, 100} {
		some := ids[len(ids)/2 : len(ids)/2+n]
		b.Run(fmt.Sprintf("SnapshotServices/%d", n), func(b *testing.B) {
			for b.Loop() {
				view(b, func(tx store.Tx) error { _, err := tx.SnapshotServices(ctx, "default", some); return err })
			}
		})
	}
	b.Run("ChangedSince", func(b *testing.B) {
		var rev int64
		err := s.Tx(ctx, func(tx store.Tx) error {
			var err error
			rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default", Services: ids[:1]})
			if err == nil {
				_, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default", Services: ids[1:3]})
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			view(b, func(tx store.Tx) error { _, _, err := tx.ChangedSince(ctx, "default", rev, 100); return err })
		}
	})
}
