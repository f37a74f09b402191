package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testApplications(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	tx := func(fn func(ctx context.Context, tx store.Tx) error) { t.Helper(); inTx(t, s, fn) }
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }

	projApp := spec.Application{Name: "call credentials", ProjectID: "p1", Owner: "u-admin"}
	userApp := spec.Application{Name: "my app", Owner: "u-alice"}
	tx(func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateApplication(ctx, &projApp); err != nil {
			return err
		}
		return tx.CreateApplication(ctx, &userApp)
	})

	t.Run("applications", func(t *testing.T) {
		// The same name is fine for another owner, refused for the same.
		other := spec.Application{Name: "my app", Owner: "u-bob"}
		wantErr(t, "same name, other owner", try(func(tx store.Tx) error { return tx.CreateApplication(ctx, &other) }), nil)
		dup := spec.Application{Name: "my app", Owner: "u-alice"}
		wantErr(t, "same name, same owner", try(func(tx store.Tx) error { return tx.CreateApplication(ctx, &dup) }), store.ErrConflict)
		missing := spec.Application{Name: "x", ProjectID: "p9"}
		wantErr(t, "missing project", try(func(tx store.Tx) error { return tx.CreateApplication(ctx, &missing) }), store.ErrNotFound)

		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetApplication(ctx, projApp.ID)
			wantErr(t, "GetApplication", err, nil)
			if got.Name != projApp.Name || got.ProjectID != "p1" || got.Owner != "u-admin" {
				t.Errorf("GetApplication = %+v", got)
			}
			_, err = tx.GetApplication(ctx, "nope")
			wantErr(t, "GetApplication missing", err, store.ErrNotFound)
			items, total, err := tx.ListApplications(ctx, store.ApplicationFilter{ProjectID: "p1"}, store.ListQuery{})
			wantErr(t, "list by project", err, nil)
			if total != 1 || items[0].ID != projApp.ID {
				t.Errorf("list by project: %d %+v", total, items)
			}
			items, total, err = tx.ListApplications(ctx, store.ApplicationFilter{Owner: "u-alice"}, store.ListQuery{})
			wantErr(t, "list by owner", err, nil)
			if total != 1 || items[0].ID != userApp.ID {
				t.Errorf("list by owner: %d %+v", total, items)
			}
			_, total, err = tx.ListApplications(ctx, store.ApplicationFilter{}, store.ListQuery{Q: "MY"})
			wantErr(t, "list q", err, nil)
			if total != 2 {
				t.Errorf("list q=MY: total %d, want 2", total)
			}
			upd := projApp
			upd.Description, upd.Services = "call credentials", []string{"s1"}
			wantErr(t, "UpdateApplication", tx.UpdateApplication(ctx, &upd), nil)
			got, _ = tx.GetApplication(ctx, projApp.ID)
			if got.Description != "call credentials" || !slices.Equal(got.Services, []string{"s1"}) {
				t.Errorf("after update: %+v", got)
			}
			upd.Services = nil
			return tx.UpdateApplication(ctx, &upd)
		})
		wantErr(t, "delete", try(func(tx store.Tx) error { return tx.DeleteApplication(ctx, other.ID) }), nil)
		wantErr(t, "delete again", try(func(tx store.Tx) error { return tx.DeleteApplication(ctx, other.ID) }), store.ErrNotFound)
	})

	key := spec.Credential{ApplicationID: projApp.ID, Type: spec.CredKeyAuth, Key: "plain-key", Hint: "plai"}
	hm := spec.Credential{ApplicationID: projApp.ID, Type: spec.CredHMACAuth, AccessKey: "ak1", SecretKey: "plain-secret"}
	t.Run("credentials", func(t *testing.T) {
		tx(func(ctx context.Context, tx store.Tx) error {
			wantErr(t, "key-auth", tx.CreateCredential(ctx, &key, store.CredentialSecret{Lookup: "hash-of-key"}), nil)
			_, err := tx.SealedSample(ctx)
			wantErr(t, "SealedSample with nothing sealed", err, store.ErrNotFound)
			wantErr(t, "hmac-auth", tx.CreateCredential(ctx, &hm, store.CredentialSecret{Lookup: "ak1", Sealed: "v1.sealed"}), nil)
			if got, err := tx.SealedSample(ctx); err != nil || got != "v1.sealed" {
				t.Errorf("SealedSample = %q, %v; want the hmac-auth secret", got, err)
			}
			return nil
		})
		if key.Key != "" || hm.SecretKey != "" || hm.AccessKey != "ak1" {
			t.Errorf("created credentials not redacted: %+v %+v", key, hm)
		}
		dup := spec.Credential{ApplicationID: userApp.ID, Type: spec.CredKeyAuth}
		wantErr(t, "same key", try(func(tx store.Tx) error {
			return tx.CreateCredential(ctx, &dup, store.CredentialSecret{Lookup: "hash-of-key"})
		}), store.ErrConflict)
		// A rotation: the same application holds the identifier twice.
		rotated := spec.Credential{ApplicationID: projApp.ID, Type: spec.CredHMACAuth}
		wantErr(t, "same access key, same application", try(func(tx store.Tx) error {
			if err := tx.CreateCredential(ctx, &rotated, store.CredentialSecret{Lookup: "ak1", Sealed: "v1.new"}); err != nil {
				return err
			}
			return tx.DeleteCredential(ctx, projApp.ID, rotated.ID)
		}), nil)
		orphan := spec.Credential{ApplicationID: "nope", Type: spec.CredKeyAuth}
		wantErr(t, "missing application", try(func(tx store.Tx) error {
			return tx.CreateCredential(ctx, &orphan, store.CredentialSecret{Lookup: "h2"})
		}), store.ErrNotFound)
		tx(func(ctx context.Context, tx store.Tx) error {
			list, err := tx.ListCredentials(ctx, projApp.ID)
			wantErr(t, "ListCredentials", err, nil)
			if len(list) != 2 || list[0].ID != key.ID || list[0].Hint != "plai" || list[1].AccessKey != "ak1" {
				t.Errorf("ListCredentials = %+v", list)
			}
			_, err = tx.GetCredential(ctx, userApp.ID, key.ID)
			wantErr(t, "GetCredential of another application", err, store.ErrNotFound)
			at := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
			wantErr(t, "SetCredentialExpiry", tx.SetCredentialExpiry(ctx, projApp.ID, hm.ID, at), nil)
			got, _ := tx.GetCredential(ctx, projApp.ID, hm.ID)
			if !got.ExpiresAt.Equal(at) {
				t.Errorf("expires_at = %v, want %v", got.ExpiresAt, at)
			}
			return tx.SetCredentialExpiry(ctx, projApp.ID, hm.ID, time.Time{})
		})
	})

	t.Run("subscriptions and snapshot consumers", func(t *testing.T) {
		s1 := newService(t, s, "p1", "orders", "list")
		freeze(t, s, s1, "1.0.0")
		deploy(t, s, "default", s1, "1.0.0")
		s2 := newService(t, s, "p2", "weather", "today")
		freeze(t, s, s2, "1.0.0")
		deploy(t, s, "team", s2, "1.0.0")
		userKey := spec.Credential{ApplicationID: userApp.ID, Type: spec.CredKeyAuth}
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.CreateCredential(ctx, &userKey, store.CredentialSecret{Lookup: "user-key-hash"})
		})

		consumers := func(group string) []spec.Consumer {
			t.Helper()
			var snap spec.Snapshot
			tx(func(ctx context.Context, tx store.Tx) error {
				var err error
				snap, err = tx.Snapshot(ctx, []string{group})
				return err
			})
			return snap.Groups[0].Consumers
		}
		// p1's application runs where p1's service runs; alice's nowhere yet.
		if got := consumers("default"); len(got) != 1 || got[0].ID != projApp.ID || got[0].ProjectID != "p1" ||
			len(got[0].Credentials) != 2 || got[0].Credentials[0].Key != "hash-of-key" || got[0].Credentials[1].Sealed != "v1.sealed" {
			t.Errorf("default consumers = %+v", got)
		}
		if got := consumers("team"); len(got) != 0 {
			t.Errorf("team consumers before subscribing = %+v", got)
		}

		sub := spec.Subscription{ApplicationID: userApp.ID, ServiceID: s2.ID, ProjectID: "p2", State: spec.SubscriptionApproved}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateSubscription(ctx, &sub) })
		again := sub
		again.ID = ""
		wantErr(t, "subscribe twice", try(func(tx store.Tx) error { return tx.CreateSubscription(ctx, &again) }), store.ErrConflict)
		bad := spec.Subscription{ApplicationID: userApp.ID, ServiceID: "nope", State: spec.SubscriptionApproved}
		wantErr(t, "subscribe to a missing service", try(func(tx store.Tx) error { return tx.CreateSubscription(ctx, &bad) }), store.ErrNotFound)
		if got := consumers("team"); len(got) != 1 || got[0].ID != userApp.ID || !slices.Equal(got[0].Subscriptions, []string{s2.ID}) {
			t.Errorf("team consumers after subscribing = %+v", got)
		}
		tx(func(ctx context.Context, tx store.Tx) error {
			items, total, err := tx.ListSubscriptions(ctx, store.SubscriptionFilter{Owner: "u-alice"}, store.ListQuery{})
			wantErr(t, "ListSubscriptions", err, nil)
			if total != 1 || items[0].ID != sub.ID || items[0].State != spec.SubscriptionApproved {
				t.Errorf("ListSubscriptions = %d %+v", total, items)
			}
			_, total, _ = tx.ListSubscriptions(ctx, store.SubscriptionFilter{ServiceID: s1.ID}, store.ListQuery{})
			if total != 0 {
				t.Errorf("subscriptions of s1: %d", total)
			}
			// An expired credential is no longer handed to gateways.
			return tx.SetCredentialExpiry(ctx, userApp.ID, userKey.ID, time.Now().Add(-time.Second))
		})
		if got := consumers("team"); len(got) != 0 {
			t.Errorf("team consumers with only an expired credential = %+v", got)
		}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.DeleteSubscription(ctx, sub.ID) })
		_, err := func() (spec.Subscription, error) {
			var got spec.Subscription
			err := try(func(tx store.Tx) error { var err error; got, err = tx.GetSubscription(ctx, sub.ID); return err })
			return got, err
		}()
		wantErr(t, "GetSubscription after delete", err, store.ErrNotFound)

		// Deleting an application takes its credentials along.
		tx(func(ctx context.Context, tx store.Tx) error { return tx.DeleteApplication(ctx, userApp.ID) })
		tx(func(ctx context.Context, tx store.Tx) error {
			list, err := tx.ListCredentials(ctx, userApp.ID)
			if len(list) != 0 {
				t.Errorf("credentials of a deleted application: %+v", list)
			}
			return err
		})
	})
}
