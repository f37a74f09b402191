package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testMarket covers the API market's tables: listings and the catalog
// query, plans, approvals with their history, webhook deliveries.
func testMarket(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	tx := func(fn func(ctx context.Context, tx store.Tx) error) { t.Helper(); inTx(t, s, fn) }
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }

	orders := newService(t, s, "p1", "orders", "list")
	weather := newService(t, s, "p2", "weather", "today")
	for _, svc := range []spec.Service{orders, weather} {
		freeze(t, s, svc, "1.0.0")
		tx(func(ctx context.Context, tx store.Tx) error {
			svc.State = spec.StatePublished
			svc.Labels = map[string]string{"team": "crm_" + svc.Name}
			return tx.UpdateService(ctx, &svc)
		})
	}
	catalog := func(f store.CatalogFilter) []string {
		t.Helper()
		var names []string
		tx(func(ctx context.Context, tx store.Tx) error {
			svcs, total, err := tx.ListCatalog(ctx, f, store.ListQuery{Page: 1, PageSize: 50})
			if err != nil {
				return err
			}
			if total != len(svcs) {
				t.Errorf("catalog total %d, items %d", total, len(svcs))
			}
			for _, s := range svcs {
				names = append(names, s.Name)
			}
			return nil
		})
		return names
	}

	t.Run("listings", func(t *testing.T) {
		if got := catalog(store.CatalogFilter{}); len(got) != 0 {
			t.Fatalf("catalog before listing = %v", got)
		}
		for _, svc := range []spec.Service{orders, weather} {
			l := spec.Listing{ServiceID: svc.ID, ProjectID: svc.ProjectID, Version: "1.0.0", ListedBy: "u-admin"}
			tx(func(ctx context.Context, tx store.Tx) error { return tx.PutListing(ctx, &l) })
		}
		bad := spec.Listing{ServiceID: "nope", ProjectID: "p1", Version: "1.0.0"}
		wantErr(t, "listing a missing service", try(func(tx store.Tx) error { return tx.PutListing(ctx, &bad) }), store.ErrNotFound)
		for _, c := range []struct {
			f    store.CatalogFilter
			want string
		}{
			{store.CatalogFilter{}, "orders weather"},
			{store.CatalogFilter{Q: "WEA"}, "weather"},
			{store.CatalogFilter{Project: "p1"}, "orders"},
			{store.CatalogFilter{Tag: "team"}, "orders weather"},
			{store.CatalogFilter{Tag: "team=crm_orders"}, "orders"},
			{store.CatalogFilter{Tag: "team=crm%"}, ""}, // LIKE characters match themselves
			{store.CatalogFilter{Tag: "nope"}, ""},
			{store.CatalogFilter{Folder: "none"}, ""},
		} {
			got := ""
			for i, n := range catalog(c.f) {
				if i > 0 {
					got += " "
				}
				got += n
			}
			if got != c.want {
				t.Errorf("catalog %+v = %q, want %q", c.f, got, c.want)
			}
		}
		var l spec.Listing
		tx(func(ctx context.Context, tx store.Tx) error {
			var err error
			l, err = tx.GetListing(ctx, orders.ID)
			return err
		})
		listedAt := l.ListedAt
		l.AutoApprove = true
		tx(func(ctx context.Context, tx store.Tx) error { return tx.PutListing(ctx, &l) })
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetListing(ctx, orders.ID)
			if err == nil && (!got.AutoApprove || !got.ListedAt.Equal(listedAt) || got.ListedBy != "u-admin") {
				t.Errorf("listing after a change = %+v", got)
			}
			return err
		})
		tx(func(ctx context.Context, tx store.Tx) error { return tx.DeleteListing(ctx, weather.ID) })
		wantErr(t, "delisting twice", try(func(tx store.Tx) error { return tx.DeleteListing(ctx, weather.ID) }), store.ErrNotFound)
		if got := catalog(store.CatalogFilter{}); len(got) != 1 || got[0] != "orders" {
			t.Errorf("catalog after delisting = %v", got)
		}
	})

	t.Run("plans", func(t *testing.T) {
		free := spec.Plan{ServiceID: orders.ID, ProjectID: "p1", Name: "free", Quotas: []spec.Quota{{Count: 5, Period: spec.QuotaDay}}}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreatePlan(ctx, &free) })
		dup := spec.Plan{ServiceID: orders.ID, ProjectID: "p1", Name: "free"}
		wantErr(t, "a second plan of the name", try(func(tx store.Tx) error { return tx.CreatePlan(ctx, &dup) }), store.ErrConflict)
		free.Quotas = append(free.Quotas, spec.Quota{Count: 1, Period: spec.QuotaSecond})
		tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdatePlan(ctx, &free) })
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetPlan(ctx, orders.ID, "free")
			if err == nil && len(got.Quotas) != 2 {
				t.Errorf("plan by name = %+v", got)
			}
			return err
		})
		app := spec.Application{Name: "mine", Owner: "u-alice"}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateApplication(ctx, &app) })
		sub := spec.Subscription{ApplicationID: app.ID, ServiceID: orders.ID, ProjectID: "p1", State: spec.SubscriptionPending, Plan: free.ID, Approval: "a1"}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateSubscription(ctx, &sub) })
		wantErr(t, "deleting a plan in use", try(func(tx store.Tx) error { return tx.DeletePlan(ctx, orders.ID, free.ID) }), store.ErrConflict)
		sub.State = spec.SubscriptionApproved
		tx(func(ctx context.Context, tx store.Tx) error { return tx.UpdateSubscription(ctx, &sub) })
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetSubscriptionOf(ctx, app.ID, orders.ID)
			if err == nil && (got.State != spec.SubscriptionApproved || got.Plan != free.ID || got.Approval != "a1") {
				t.Errorf("subscription = %+v", got)
			}
			return err
		})
		// The snapshot carries the plan of an approved subscription.
		deploy(t, s, "team", orders, "1.0.0")
		cred := spec.Credential{ApplicationID: app.ID, Type: spec.CredKeyAuth}
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.CreateCredential(ctx, &cred, store.CredentialSecret{Lookup: "key-hash"})
		})
		var snap spec.Snapshot
		tx(func(ctx context.Context, tx store.Tx) error {
			var err error
			snap, err = tx.Snapshot(ctx, []string{"team"})
			return err
		})
		if cs := snap.Groups[0].Consumers; len(cs) != 1 || len(cs[0].Plans) != 1 || cs[0].Plans[0].Plan != "free" ||
			cs[0].Plans[0].Subscription != sub.ID || len(cs[0].Plans[0].Quotas) != 2 {
			t.Errorf("snapshot consumers = %+v", cs)
		}
	})

	t.Run("approvals", func(t *testing.T) {
		a := spec.Approval{Kind: spec.ApprovalListing, Project: "p2", Service: weather.ID, ServiceName: "weather",
			Subject: weather.ID, Requester: "u-bob", ApproverRole: spec.ApproverProjectAdmin, State: spec.ApprovalPending,
			Comment: "please", Detail: map[string]string{"version": "1.0.0"}}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateApproval(ctx, &a) })
		b := spec.Approval{Kind: spec.ApprovalSubscription, Project: "p1", Service: orders.ID, ServiceName: "orders",
			Subject: "s1", Requester: "u-alice", ApproverRole: spec.ApproverSuperAdmin, State: spec.ApprovalPending}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.CreateApproval(ctx, &b) })
		list := func(f store.ApprovalFilter) int {
			t.Helper()
			var n int
			tx(func(ctx context.Context, tx store.Tx) error {
				_, total, err := tx.ListApprovals(ctx, f, store.ListQuery{Page: 1, PageSize: 10})
				n = total
				return err
			})
			return n
		}
		for _, c := range []struct {
			f    store.ApprovalFilter
			want int
		}{
			{store.ApprovalFilter{}, 2},
			{store.ApprovalFilter{Requester: "u-bob"}, 1},
			{store.ApprovalFilter{Projects: []string{"p1"}}, 1},
			{store.ApprovalFilter{Projects: []string{}}, 0},
			{store.ApprovalFilter{Projects: []string{"p1", "p2"}, ApproverRoles: []string{spec.ApproverProjectAdmin}}, 1},
			{store.ApprovalFilter{Kind: spec.ApprovalSubscription, Subject: "s1", State: spec.ApprovalPending}, 1},
			{store.ApprovalFilter{State: spec.ApprovalApproved}, 0},
		} {
			if got := list(c.f); got != c.want {
				t.Errorf("approvals %+v = %d, want %d", c.f, got, c.want)
			}
		}
		ev := spec.ApprovalEvent{Actor: "u-admin", Action: "approved", Comment: "fine"}
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.DecideApproval(ctx, a.ID, spec.ApprovalApproved, &ev)
		})
		again := spec.ApprovalEvent{Actor: "u-admin", Action: "rejected"}
		wantErr(t, "deciding twice", try(func(tx store.Tx) error {
			return tx.DecideApproval(ctx, a.ID, spec.ApprovalRejected, &again)
		}), store.ErrConflict)
		wantErr(t, "deciding a missing one", try(func(tx store.Tx) error {
			return tx.DecideApproval(ctx, "nope", spec.ApprovalRejected, &again)
		}), store.ErrNotFound)
		tx(func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetApproval(ctx, a.ID)
			if err == nil && (got.State != spec.ApprovalApproved || len(got.History) != 2 || got.History[0].Action != "requested" ||
				got.History[0].Comment != "please" || got.History[1].Comment != "fine" || got.Detail["version"] != "1.0.0") {
				t.Errorf("decided approval = %+v", got)
			}
			return err
		})
	})

	t.Run("webhooks", func(t *testing.T) {
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.SetProjectWebhook(ctx, "p1", "https://hooks.example.com", "v1.sealed")
		})
		tx(func(ctx context.Context, tx store.Tx) error {
			p, err := tx.GetProject(ctx, "p1")
			if err == nil && (p.Webhook == nil || p.Webhook.URL != "https://hooks.example.com" || !p.Webhook.SecretSet) {
				t.Errorf("project webhook = %+v", p.Webhook)
			}
			return err
		})
		d := store.WebhookDelivery{Project: "p1", Event: "approval.requested", Body: `{}`}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.EnqueueWebhook(ctx, &d) })
		due := func(at time.Time) int {
			t.Helper()
			var n int
			tx(func(ctx context.Context, tx store.Tx) error {
				ds, err := tx.DueWebhooks(ctx, at, 10)
				n = len(ds)
				return err
			})
			return n
		}
		now := time.Now()
		if n := due(now.Add(time.Second)); n != 1 {
			t.Fatalf("due = %d", n)
		}
		tx(func(ctx context.Context, tx store.Tx) error {
			return tx.MarkWebhook(ctx, d.ID, time.Time{}, now.Add(time.Minute), "503 Service Unavailable")
		})
		if n := due(now.Add(time.Second)); n != 0 {
			t.Errorf("due before the retry = %d", n)
		}
		if n := due(now.Add(2 * time.Minute)); n != 1 {
			t.Errorf("due at the retry = %d", n)
		}
		tx(func(ctx context.Context, tx store.Tx) error { return tx.MarkWebhook(ctx, d.ID, now, time.Time{}, "") })
		if n := due(now.Add(time.Hour)); n != 0 {
			t.Errorf("due after delivery = %d", n)
		}
		tx(func(ctx context.Context, tx store.Tx) error {
			ds, total, err := tx.ListWebhookDeliveries(ctx, "p1", store.ListQuery{Page: 1, PageSize: 10})
			if err == nil && (total != 1 || ds[0].Attempts != 2 || ds[0].DeliveredAt.IsZero()) {
				t.Errorf("deliveries = %+v", ds)
			}
			return err
		})
	})
}
