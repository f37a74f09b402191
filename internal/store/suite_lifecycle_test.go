package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testLifecycle covers the store methods of the publishing lifecycle:
// parked deployments, per-group history and services by state.
func testLifecycle(t *testing.T, s store.Store) {
	seed(t, s)
	svc := newService(t, s, "p1", "user", "user_info")
	other := newService(t, s, "p2", "user", "user_info")
	freeze(t, s, svc, "1.0.0")
	freeze(t, s, other, "1.0.0")
	d := deploy(t, s, "team", svc, "1.0.0")

	t.Run("Park", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListParkedDeployments(ctx, svc.ID)
			wantErr(t, "ListParkedDeployments of none", err, nil)
			if got == nil || len(got) != 0 {
				t.Errorf("parked of a fresh service = %#v, want an empty list", got)
			}
			wantErr(t, "ParkDeployment", tx.ParkDeployment(ctx, &d), nil)
			again := d
			again.Upstream.Name = "replaced"
			wantErr(t, "ParkDeployment again", tx.ParkDeployment(ctx, &again), nil)
			got, err = tx.ListParkedDeployments(ctx, svc.ID)
			wantErr(t, "ListParkedDeployments", err, nil)
			if len(got) != 1 || got[0].Version != "1.0.0" || got[0].Group != "team" || got[0].Upstream.Name != "replaced" ||
				got[0].ProjectID != "p1" || got[0].UpdatedAt.IsZero() {
				t.Errorf("parked = %+v, want the replaced team deployment", got)
			}
			missing := d
			missing.Version = "9.9.9"
			wantErr(t, "ParkDeployment of a missing version", tx.ParkDeployment(ctx, &missing), store.ErrNotFound)
			missing = d
			missing.Group = "nope"
			wantErr(t, "ParkDeployment in a missing group", tx.ParkDeployment(ctx, &missing), store.ErrNotFound)
			return nil
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			wantErr(t, "DeleteParkedDeployments", tx.DeleteParkedDeployments(ctx, svc.ID), nil)
			wantErr(t, "DeleteParkedDeployments of none", tx.DeleteParkedDeployments(ctx, svc.ID), nil)
			got, err := tx.ListParkedDeployments(ctx, svc.ID)
			if err != nil || len(got) != 0 {
				t.Errorf("parked after delete = %+v, %v", got, err)
			}
			return nil
		})
		// Parked rows go with their service.
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			od := spec.Deployment{Group: "default", ProjectID: "p2", ServiceID: other.ID, Version: "1.0.0"}
			if err := tx.ParkDeployment(ctx, &od); err != nil {
				return err
			}
			return tx.DeleteService(ctx, "p2", other.ID)
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListParkedDeployments(ctx, other.ID)
			if err != nil || len(got) != 0 {
				t.Errorf("parked of a deleted service = %+v, %v", got, err)
			}
			return nil
		})
	})

	t.Run("GroupHistory", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, e := range []spec.HistoryEvent{
				{ProjectID: "p1", ServiceID: svc.ID, Group: "default", Action: "submit", Version: "1.0.0"},
				{ProjectID: "p1", ServiceID: svc.ID, Group: "team", Action: "publish", Version: "1.0.0"},
				{ProjectID: "p1", ServiceID: svc.ID, Group: "team", Action: "disable", FromVersion: "1.0.0"},
			} {
				if err := tx.AddHistory(ctx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ListGroupHistory(ctx, "team", store.ListQuery{})
			wantErr(t, "ListGroupHistory", err, nil)
			var actions []string
			for _, e := range got {
				actions = append(actions, e.Action)
			}
			if diff := cmp.Diff([]string{"disable", "publish"}, actions); diff != "" || total != 2 {
				t.Errorf("team history (total %d) -want +got:\n%s", total, diff)
			}
			got, total, err = tx.ListGroupHistory(ctx, "team", store.ListQuery{Q: "PUB"})
			if err != nil || total != 1 || len(got) != 1 || got[0].Action != "publish" {
				t.Errorf("team history q=PUB = %+v (%d), %v", got, total, err)
			}
			got, total, err = tx.ListGroupHistory(ctx, "team", store.ListQuery{PageSize: 1, Page: 2})
			if err != nil || total != 2 || len(got) != 1 || got[0].Action != "publish" {
				t.Errorf("team history page 2 = %+v (%d), %v", got, total, err)
			}
			got, total, err = tx.ListGroupHistory(ctx, "nope", store.ListQuery{})
			if err != nil || total != 0 || got == nil || len(got) != 0 {
				t.Errorf("history of a missing group = %#v (%d), %v; want an empty list", got, total, err)
			}
			return nil
		})
	})

	t.Run("ServicesInState", func(t *testing.T) {
		a := newService(t, s, "p2", "zeta", "r")
		b := newService(t, s, "p1", "alpha", "r")
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, x := range []spec.Service{a, b} {
				x.State = spec.StatePublished
				x.Description = "the " + x.Name + " API"
				x.Routes = nil
				if err := tx.UpdateService(ctx, &x); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ListServicesInState(ctx, spec.StatePublished, store.ListQuery{})
			wantErr(t, "ListServicesInState", err, nil)
			var names []string
			for _, x := range got {
				names = append(names, x.ProjectID+"/"+x.Name)
			}
			if diff := cmp.Diff([]string{"p1/alpha", "p2/zeta"}, names); diff != "" || total != 2 {
				t.Errorf("published (total %d) -want +got:\n%s", total, diff)
			}
			got, total, err = tx.ListServicesInState(ctx, spec.StatePublished, store.ListQuery{Q: "zeta api"})
			if err != nil || total != 1 || got[0].Name != "zeta" {
				t.Errorf("published q='zeta api' = %+v (%d), %v", got, total, err)
			}
			got, total, err = tx.ListServicesInState(ctx, spec.StateDisabled, store.ListQuery{})
			if err != nil || total != 0 || got == nil {
				t.Errorf("disabled = %#v (%d), %v; want an empty list", got, total, err)
			}
			return nil
		})
	})
}
