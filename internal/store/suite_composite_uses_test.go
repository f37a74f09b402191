package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testCompositeUses: the edges of the graph of composite APIs are kept
// per group and composite service, found by the service they call and by
// the composite, go with the composite's deployment, and the composite
// routes of a project's templates are found without listing its services.
func testCompositeUses(t *testing.T, s store.Store) {
	seed(t, s)
	users := newService(t, s, "p1", "users", "get-user")
	profile := newService(t, s, "p1", "profile")
	freeze(t, s, users, "1")
	freeze(t, s, profile, "1")
	deploy(t, s, "default", users, "1")
	deploy(t, s, "default", profile, "1")
	deploy(t, s, "team", profile, "1")
	edge := func(group, version string) store.CompositeUse {
		return store.CompositeUse{Group: group, ProjectID: "p1", ServiceID: profile.ID, ServiceName: "profile", Version: version,
			Route: "get-profile", UsesService: "users", UsesRoute: "get-user", UsesServiceID: users.ID}
	}
	d1, t1, d2 := edge("default", "1"), edge("team", "1"), edge("default", "2")
	read := func(ctx context.Context, tx store.Tx) (of, ofDefault, by []store.CompositeUse) {
		var err error
		if of, err = tx.CompositeUsesOf(ctx, "", users.ID); err != nil {
			t.Fatal(err)
		}
		if ofDefault, err = tx.CompositeUsesOf(ctx, "default", users.ID); err != nil {
			t.Fatal(err)
		}
		if by, err = tx.CompositeUsesBy(ctx, profile.ID); err != nil {
			t.Fatal(err)
		}
		return of, ofDefault, by
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutCompositeUses(ctx, "default", profile.ID, []store.CompositeUse{d2, d1, d1}); err != nil {
			return err
		}
		if err := tx.ResetCompositeUses(ctx, "team", []store.CompositeUse{t1}); err != nil {
			return err
		}
		of, ofDefault, by := read(ctx, tx)
		want := []store.CompositeUse{d1, d2, t1}
		if diff := cmp.Diff(want, of); diff != "" {
			t.Errorf("CompositeUsesOf all groups (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want[:2], ofDefault); diff != "" {
			t.Errorf("CompositeUsesOf default (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, by); diff != "" {
			t.Errorf("CompositeUsesBy (-want +got):\n%s", diff)
		}
		// Replaced per service: one edge left in default.
		return tx.PutCompositeUses(ctx, "default", profile.ID, []store.CompositeUse{d1})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutCompositeUses(ctx, "default", users.ID, []store.CompositeUse{d1}); err == nil {
			t.Error("PutCompositeUses took an edge of another service")
		}
		// A composite not deployed in the group: ErrNotFound.
		other := d1
		other.Group, other.ServiceID = "team", users.ID
		if err := tx.PutCompositeUses(ctx, "team", users.ID, []store.CompositeUse{other}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("edges of a service not deployed = %v, want ErrNotFound", err)
		}
		return nil
	})
	// The edges go with the deployment.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDeployment(ctx, "team", profile.ID) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, _, by := read(ctx, tx)
		if diff := cmp.Diff([]store.CompositeUse{d1}, by); diff != "" {
			t.Errorf("edges after the deployment in team went (-want +got):\n%s", diff)
		}
		return nil
	})

	// Services running under a name, from the route-shape index.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutRouteShapes(ctx, "default", users.ID, []store.RouteShape{{Shape: "/get-user", Path: "/get-user",
			ProjectID: "p1", ServiceName: "users", RouteName: "get-user"}}); err != nil {
			return err
		}
		for _, c := range []struct {
			project, name string
			want          []string
		}{{"p1", "users", []string{users.ID}}, {"p2", "users", []string{}}, {"p1", "profile", []string{}}} {
			got, err := tx.ServicesRunningAs(ctx, "default", c.project, c.name)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ServicesRunningAs(%s, %s) (-want +got):\n%s", c.project, c.name, diff)
			}
		}
		return nil
	})

	// The composite routes of a project's templates.
	composite := spec.Route{ServiceID: profile.ID, Name: "get-profile", Paths: []string{"/p"},
		Backend: &spec.Backend{Type: spec.BackendComposite, Composite: &spec.CompositeBackend{
			Steps:    []spec.CompositeStep{{Name: "u", Service: "users", Route: "get-user"}},
			Response: spec.CompositeResponse{Body: "steps.u.body"}}}}
	other := newService(t, s, "p2", "elsewhere")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateRoute(ctx, &composite); err != nil {
			return err
		}
		c2 := composite
		c2.ID, c2.ServiceID = "", other.ID
		return tx.CreateRoute(ctx, &c2)
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ListCompositeRoutes(ctx, "p1")
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ServiceName != "profile" || got[0].Route.Name != "get-profile" || !got[0].Route.IsComposite() ||
			got[0].Route.Backend.Composite.Steps[0].Service != "users" {
			t.Errorf("ListCompositeRoutes(p1) = %+v", got)
		}
		return nil
	})
}
