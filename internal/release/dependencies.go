package release

import (
	"context"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// CheckDelete refuses deleting a service template while a composite route
// of its project calls it: in a template (by the service's name) or in a
// version running in a group (by its id). The *DependencyError names each
// of them; the service's own composites do not count.
func CheckDelete(ctx context.Context, tx store.Tx, svc *spec.Service) error {
	var deps []Dependency
	templates, err := tx.ListCompositeRoutes(ctx, svc.ProjectID)
	if err != nil {
		return fmt.Errorf("composite routes of project %q: %w", svc.ProjectID, err)
	}
	for _, t := range templates {
		if t.Route.ServiceID == svc.ID {
			continue
		}
		for _, u := range t.Route.Backend.Composite.Uses() {
			if u.Service == svc.Name {
				deps = append(deps, Dependency{ProjectID: svc.ProjectID, ServiceID: t.Route.ServiceID, Service: t.ServiceName,
					Route: t.Route.Name, UsesService: u.Service, UsesRoute: u.Route, Reason: ReasonTemplateUse})
			}
		}
	}
	running, err := tx.CompositeUsesOf(ctx, "", svc.ID)
	if err != nil {
		return fmt.Errorf("composite APIs using service %q: %w", svc.Name, err)
	}
	for i := range running {
		if running[i].ServiceID != svc.ID {
			deps = append(deps, dependency(&running[i], ReasonNotRunning, false))
		}
	}
	if len(deps) > 0 {
		return &DependencyError{Dependencies: deps}
	}
	return nil
}

// ServiceDependencies reads the graph around svc: its template's composite
// routes and the edges the groups run. Its cost follows the project's
// composite routes and the groups svc runs in.
func ServiceDependencies(ctx context.Context, tx store.Tx, svc *spec.Service) (spec.ServiceDependencies, error) {
	out := spec.ServiceDependencies{Uses: []spec.UsedAPI{}, UsedBy: []spec.UsingCall{}}
	routes, err := tx.ListRoutes(ctx, svc.ID)
	if err != nil {
		return out, fmt.Errorf("routes of service %q: %w", svc.Name, err)
	}
	idx := map[spec.CompositeUse]int{}
	use := func(service, route, by string) *spec.UsedAPI {
		k := spec.CompositeUse{Service: service, Route: route}
		i, ok := idx[k]
		if !ok {
			i = len(out.Uses)
			idx[k] = i
			out.Uses = append(out.Uses, spec.UsedAPI{Service: service, Route: route, By: []string{}, Groups: []string{}, MissingIn: []string{}})
		}
		u := &out.Uses[i]
		if !slices.Contains(u.By, by) {
			u.By = append(u.By, by)
		}
		return u
	}
	for ri := range routes {
		if r := &routes[ri]; r.IsComposite() {
			for _, u := range r.Backend.Composite.Uses() {
				use(u.Service, u.Route, r.Name)
			}
		}
	}
	running, err := tx.CompositeUsesBy(ctx, svc.ID)
	if err != nil {
		return out, err
	}
	for _, e := range running {
		u := use(e.UsesService, e.UsesRoute, e.Route)
		if !slices.Contains(u.Groups, e.Group) {
			u.Groups = append(u.Groups, e.Group)
		}
	}
	deps, err := tx.ListDeploymentsByService(ctx, svc.ID)
	if err != nil {
		return out, fmt.Errorf("where service %q runs: %w", svc.Name, err)
	}
	for _, d := range deps {
		r := resolver{ctx: ctx, tx: tx, group: d.Group, found: map[string]*spec.Service{}}
		for i := range out.Uses {
			u := &out.Uses[i]
			provider, err := r.running(svc.ProjectID, u.Service)
			if err != nil {
				return out, err
			}
			if provider == nil || !servesRoute(provider, u.Route) {
				u.MissingIn = append(u.MissingIn, d.Group)
			}
		}
	}
	for i := range out.Uses {
		slices.Sort(out.Uses[i].Groups)
		slices.Sort(out.Uses[i].MissingIn)
	}
	callers, err := tx.CompositeUsesOf(ctx, "", svc.ID)
	if err != nil {
		return out, err
	}
	for _, e := range callers {
		out.UsedBy = append(out.UsedBy, spec.UsingCall{Service: e.ServiceName, ServiceID: e.ServiceID, Route: e.Route,
			UsesRoute: e.UsesRoute, Group: e.Group, Version: e.Version})
	}
	templates, err := tx.ListCompositeRoutes(ctx, svc.ProjectID)
	if err != nil {
		return out, fmt.Errorf("composite routes of project %q: %w", svc.ProjectID, err)
	}
	for _, t := range templates {
		for _, u := range t.Route.Backend.Composite.Uses() {
			if u.Service == svc.Name {
				out.UsedBy = append(out.UsedBy, spec.UsingCall{Service: t.ServiceName, ServiceID: t.Route.ServiceID,
					Route: t.Route.Name, UsesRoute: u.Route, Template: true})
			}
		}
	}
	return out, nil
}
