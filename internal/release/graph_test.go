package release_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

var offline = false

// usersRoutes are the routes of the API composites call.
func usersRoutes() []spec.Route {
	return []spec.Route{
		{Name: "get-user", Paths: []string{"/users/{id}"}, Methods: []string{"GET"}},
		{Name: "list-users", Paths: []string{"/users"}, Methods: []string{"GET"}},
	}
}

// compositeRoute is a composite route named name at path calling each
// "service/route" of calls.
func compositeRoute(name, path string, calls ...string) spec.Route {
	b := &spec.CompositeBackend{Response: spec.CompositeResponse{Body: "steps"}}
	for i, c := range calls {
		svc, route, _ := strings.Cut(c, "/")
		b.Steps = append(b.Steps, spec.CompositeStep{Name: "s" + string(rune('a'+i)), Service: svc, Route: route})
	}
	return spec.Route{Name: name, Paths: []string{path}, Methods: []string{"GET"},
		Backend: &spec.Backend{Type: spec.BackendComposite, Composite: b}}
}

// graphEnv has services users (get-user, list-users) and profile (a
// composite route get-profile calling users/get-user), neither published.
func graphEnv(t *testing.T) (e *env, users, profile spec.Service) {
	e = newEnv(t)
	users = e.service(spec.Service{Name: "users", Upstream: nodes("users.internal")}, usersRoutes()...)
	profile = e.service(spec.Service{Name: "profile", Upstream: nodes("profile.internal")},
		compositeRoute("get-profile", "/profile/{id}", "users/get-user"))
	return e, users, profile
}

// dependencyErr checks err is a *DependencyError naming exactly want (by
// group, composite service/route, used service/route and missing).
func dependencyErr(t *testing.T, err error, want ...release.Dependency) *release.DependencyError {
	t.Helper()
	de, ok := errors.AsType[*release.DependencyError](err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *release.DependencyError", err, err)
	}
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("error %v does not wrap store.ErrConflict", err)
	}
	type short struct {
		Group, Service, Route, UsesService, UsesRoute, Reason string
		Missing                                               bool
	}
	var got, exp []short
	for _, d := range de.Dependencies {
		got = append(got, short{d.Group, d.Service, d.Route, d.UsesService, d.UsesRoute, d.Reason, d.Missing})
	}
	for _, d := range want {
		exp = append(exp, short{d.Group, d.Service, d.Route, d.UsesService, d.UsesRoute, d.Reason, d.Missing})
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("dependencies (-want +got):\n%s", diff)
	}
	return de
}

// edges are the graph's edges of the composite service in every group.
func (e *env) edges(service string) []store.CompositeUse {
	e.t.Helper()
	var out []store.CompositeUse
	e.tx(func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = tx.CompositeUsesBy(ctx, service)
		return err
	})
	return out
}

var usedGetUser = release.Dependency{Group: "default", Service: "profile", Route: "get-profile",
	UsesService: "users", UsesRoute: "get-user", Reason: release.ReasonNotRunning}

func TestCompositeNeedsWhatItCalls(t *testing.T) {
	e, users, profile := graphEnv(t)
	before := e.state()
	_, err := e.publish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	missing := usedGetUser
	missing.Missing = true
	de := dependencyErr(t, err, missing)
	for _, s := range []string{`composite API "profile/get-profile"`, `service "users"`, `group "default"`} {
		if !strings.Contains(de.Error(), s) {
			t.Errorf("message %q does not name %s", de.Error(), s)
		}
	}
	e.unchanged(before)

	// users runs without the route online: still refused, for the route.
	e.setRoutes(users, spec.Route{Name: "get-user", Paths: []string{"/users/{id}"}, Online: &offline}, usersRoutes()[1])
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "0.9.0"})
	_, err = e.publish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	missing.Reason = release.ReasonRouteOff
	dependencyErr(t, err, missing)

	e.setRoutes(users, usersRoutes()...)
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	want := []store.CompositeUse{{Group: "default", ProjectID: spec.DefaultProject, ServiceID: profile.ID, ServiceName: "profile",
		Version: "1.0.0", Route: "get-profile", UsesService: "users", UsesRoute: "get-user", UsesServiceID: users.ID}}
	if diff := cmp.Diff(want, e.edges(profile.ID)); diff != "" {
		t.Errorf("edges after the publish (-want +got):\n%s", diff)
	}
	// Another group: users does not run in "test".
	_, err = e.publish("profile", release.PublishRequest{Group: "test", Version: "1.0.1"})
	missing.Group, missing.Reason = "test", release.ReasonNotRunning
	dependencyErr(t, err, missing)
}

func TestUsedAPICannotBeTakenOff(t *testing.T) {
	e, users, profile := graphEnv(t)
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	before := e.state()

	_, err := e.unpublish("users", "default")
	de := dependencyErr(t, err, usedGetUser)
	want := `service "users" is used in group "default" by composite API "profile/get-profile" (route "get-profile" of service "profile", calling route "get-user"); take those off first`
	if de.Error() != want {
		t.Errorf("message = %q\nwant      %q", de.Error(), want)
	}
	e.unchanged(before)

	// A version without the route, or with it offline.
	off := usedGetUser
	off.Reason = release.ReasonRouteOff
	e.setRoutes(users, usersRoutes()[1])
	_, err = e.publish("users", release.PublishRequest{Group: "default", Version: "2.0.0"})
	dependencyErr(t, err, off)
	e.setRoutes(users, spec.Route{Name: "get-user", Paths: []string{"/users/{id}"}, Online: &offline}, usersRoutes()[1])
	_, err = e.publish("users", release.PublishRequest{Group: "default", Version: "2.0.0"})
	dependencyErr(t, err, off)
	e.unchanged(before)

	// Renamed: the composite calls it by its old name.
	e.setRoutes(users, usersRoutes()...)
	e.tx(func(ctx context.Context, tx store.Tx) error {
		u, err := tx.GetService(ctx, spec.DefaultProject, users.ID)
		if err != nil {
			return err
		}
		u.Name = "people"
		return tx.UpdateService(ctx, &u)
	})
	_, err = e.publish(users.ID, release.PublishRequest{Group: "default", Version: "2.0.0"})
	dependencyErr(t, err, usedGetUser)

	// A version that keeps the route (under the old name) goes through;
	// with the composite off, the unpublish does too.
	e.tx(func(ctx context.Context, tx store.Tx) error {
		u, err := tx.GetService(ctx, spec.DefaultProject, users.ID)
		if err != nil {
			return err
		}
		u.Name = "users"
		return tx.UpdateService(ctx, &u)
	})
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "2.0.0"})
	if got := e.edges(profile.ID); len(got) != 1 || got[0].UsesServiceID != users.ID {
		t.Errorf("edges after the used API's publish = %+v", got)
	}
	if _, err := e.unpublish("profile", "default"); err != nil {
		t.Fatalf("unpublish the composite: %v", err)
	}
	if got := e.edges(profile.ID); len(got) != 0 {
		t.Errorf("edges after the composite's unpublish = %+v, want none", got)
	}
	if _, err := e.unpublish("users", "default"); err != nil {
		t.Fatalf("unpublish users once nothing calls it: %v", err)
	}
}

func TestLifecycleKeepsUsedAPIs(t *testing.T) {
	e := stageEnv(t, true)
	e.service(spec.Service{Name: "users", Upstream: nodes("users.internal")}, usersRoutes()...)
	e.service(spec.Service{Name: "profile", Upstream: nodes("profile.internal")},
		compositeRoute("get-profile", "/profile/{id}", "users/get-user"))
	e.mustAct("users", release.ActionSubmit, release.ActionPublish)
	e.mustAct("profile", release.ActionSubmit)
	before := e.state()
	_, err := e.act("users", release.ActionDisable, release.ActionRequest{})
	dependencyErr(t, err, usedGetUser)
	e.unchanged(before)

	// Withdrawn, the composite no longer runs: users may go.
	e.mustAct("profile", release.ActionWithdraw)
	e.mustAct("users", release.ActionDisable)
}

func TestDeleteRefusedWhileATemplateCalls(t *testing.T) {
	e, users, profile := graphEnv(t)
	check := func() error {
		ctx := t.Context()
		return e.st.View(ctx, func(tx store.Tx) error {
			u, err := tx.GetService(ctx, spec.DefaultProject, users.ID)
			if err != nil {
				return err
			}
			return release.CheckDelete(ctx, tx, &u)
		})
	}
	de := dependencyErr(t, check(), release.Dependency{Service: "profile", Route: "get-profile",
		UsesService: "users", UsesRoute: "get-user", Reason: release.ReasonTemplateUse})
	want := `service "users" is used by composite API "profile/get-profile" (route "get-profile" of service "profile", calling route "get-user") of the service templates; change or delete those first`
	if de.Error() != want {
		t.Errorf("message = %q\nwant      %q", de.Error(), want)
	}
	// The composite's own delete is not held by what it calls.
	ctx := t.Context()
	if err := e.st.View(ctx, func(tx store.Tx) error { return release.CheckDelete(ctx, tx, &profile) }); err != nil {
		t.Errorf("delete of the composite: %v", err)
	}
	e.setRoutes(profile, spec.Route{Name: "get-profile", Paths: []string{"/profile/{id}"}})
	if err := check(); err != nil {
		t.Errorf("delete once no template calls it: %v", err)
	}
}

// TestWholeGroupChangeRebuildsTheGraph: a change that is not confined to
// one service checks and rebuilds the group's edges from its snapshot.
func TestWholeGroupChangeRebuildsTheGraph(t *testing.T) {
	e, users, profile := graphEnv(t)
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	ctx := t.Context()
	whole := func(fn func(tx store.Tx) error, services ...spec.Service) error {
		return e.st.Tx(ctx, func(tx store.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			var evs []spec.HistoryEvent
			for _, s := range services {
				evs = append(evs, spec.HistoryEvent{ProjectID: spec.DefaultProject, ServiceID: s.ID, Group: "default", Action: "publish", Actor: actor})
			}
			_, err := release.Apply(ctx, tx, release.Change{Groups: []string{"default"}, Events: evs})
			return err
		})
	}
	// Edges dropped behind Apply's back come back with a whole change.
	if err := whole(func(tx store.Tx) error { return tx.ResetCompositeUses(ctx, "default", nil) }, users, profile); err != nil {
		t.Fatal(err)
	}
	if got := e.edges(profile.ID); len(got) != 1 || got[0].UsesServiceID != users.ID || got[0].Version != "1.0.0" {
		t.Errorf("edges after a whole change = %+v", got)
	}
	// Taking users off in a whole change is refused for the composite.
	err := whole(func(tx store.Tx) error { return tx.DeleteDeployment(ctx, "default", users.ID) }, users)
	dependencyErr(t, err, usedGetUser)
	// Both off together is fine.
	err = whole(func(tx store.Tx) error {
		if err := tx.DeleteDeployment(ctx, "default", users.ID); err != nil {
			return err
		}
		return tx.DeleteDeployment(ctx, "default", profile.ID)
	}, users, profile)
	if err != nil {
		t.Fatalf("both off: %v", err)
	}
	if got := e.edges(profile.ID); len(got) != 0 {
		t.Errorf("edges after both went = %+v", got)
	}
}

func TestServiceDependencies(t *testing.T) {
	e, users, profile := graphEnv(t)
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	// The template moves on: a route calling list-users and an API that
	// runs nowhere.
	e.setRoutes(profile, compositeRoute("get-profile", "/profile/{id}", "users/get-user"),
		compositeRoute("list-profiles", "/profiles", "users/list-users", "orders/get-order"))
	read := func(svc spec.Service) spec.ServiceDependencies {
		var d spec.ServiceDependencies
		ctx := t.Context()
		err := e.st.View(ctx, func(tx store.Tx) error {
			var err error
			d, err = release.ServiceDependencies(ctx, tx, &svc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := spec.ServiceDependencies{
		Uses: []spec.UsedAPI{
			{Service: "users", Route: "get-user", By: []string{"get-profile"}, Groups: []string{"default"}, MissingIn: []string{}},
			{Service: "users", Route: "list-users", By: []string{"list-profiles"}, Groups: []string{}, MissingIn: []string{}},
			{Service: "orders", Route: "get-order", By: []string{"list-profiles"}, Groups: []string{}, MissingIn: []string{"default"}},
		},
		UsedBy: []spec.UsingCall{},
	}
	if diff := cmp.Diff(want, read(profile)); diff != "" {
		t.Errorf("dependencies of the composite (-want +got):\n%s", diff)
	}
	want = spec.ServiceDependencies{
		Uses: []spec.UsedAPI{},
		UsedBy: []spec.UsingCall{
			{Service: "profile", ServiceID: profile.ID, Route: "get-profile", UsesRoute: "get-user", Group: "default", Version: "1.0.0"},
			{Service: "profile", ServiceID: profile.ID, Route: "get-profile", UsesRoute: "get-user", Template: true},
			{Service: "profile", ServiceID: profile.ID, Route: "list-profiles", UsesRoute: "list-users", Template: true},
		},
	}
	if diff := cmp.Diff(want, read(users)); diff != "" {
		t.Errorf("dependencies of the API called (-want +got):\n%s", diff)
	}
}

// TestRoutedVersionsCallToo: a version routed beside the default one
// calls what it calls; its edges are kept with its version, and they
// hold the APIs they call as the default version's do.
func TestRoutedVersionsCallToo(t *testing.T) {
	e, users, profile := graphEnv(t)
	e.mustPublish("users", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "1.0.0"})
	e.setRoutes(profile, compositeRoute("get-profile", "/profile/{id}", "users/list-users"))
	e.mustPublish("profile", release.PublishRequest{Group: "default", Version: "2.0.0"})
	ctx := t.Context()
	err := e.st.Tx(ctx, func(tx store.Tx) error {
		_, err := release.SetVersionRouting(ctx, tx, actor, spec.DefaultProject, "profile", release.VersionRoutingRequest{Group: "default",
			VersionRouting: spec.VersionRouting{By: spec.VersionByHeader, Name: "X-Version", Versions: []spec.RoutedVersion{{Version: "1.0.0"}}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range e.edges(profile.ID) {
		got = append(got, u.Version+" "+u.UsesService+"/"+u.UsesRoute)
	}
	if diff := cmp.Diff([]string{"1.0.0 users/get-user", "2.0.0 users/list-users"}, got); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	// users without get-user breaks the routed version.
	e.setRoutes(users, usersRoutes()[1])
	_, err = e.publish("users", release.PublishRequest{Group: "default", Version: "2.0.0"})
	off := usedGetUser
	off.Reason = release.ReasonRouteOff
	de := dependencyErr(t, err, off)
	if de.Dependencies[0].Version != "1.0.0" {
		t.Errorf("dependency's version = %q, want the routed 1.0.0", de.Dependencies[0].Version)
	}
}
