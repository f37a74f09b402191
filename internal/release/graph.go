package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// The dependency graph of composite APIs. A composite route calls other
// APIs of its group by service and route name, resolved by the gateway at
// call time; if one of them stops running there the composite breaks. So
// Apply holds an invariant before it commits: every online composite
// route running in a changed group finds each API it calls running there
// (the service, by its running name in the composite's project, deployed
// in the group, and the route, by name, online in the version that runs
// by default). A change that breaks it is a *DependencyError (409). The
// store keeps the graph (store.CompositeUse, one edge per call, with the
// id of the service that answers it) so that a change of one service
// looks up only the edges that call it and the services it calls.

// Why a composite's call no longer finds its API.
const (
	ReasonNotRunning  = "not_running"  // no service of that name runs in the group
	ReasonRouteOff    = "route_absent" // the service runs without that route online
	ReasonTemplateUse = "template"     // a template's composite route calls it (a delete)
)

// Dependency is one call of a composite API that a change would leave
// without the API it calls: the composite (its group, service, version
// and route) and the API called (service and route names). Group is ""
// for a composite route of a service template.
type Dependency struct {
	Group       string `json:"group"`
	ProjectID   string `json:"project_id"`
	ServiceID   string `json:"service_id"`
	Service     string `json:"service"`
	Version     string `json:"version,omitempty"`
	Route       string `json:"route"`
	UsesService string `json:"uses_service"`
	UsesRoute   string `json:"uses_route"`
	Reason      string `json:"reason"`
	// Missing: the composite itself is what the change runs (its call
	// finds nothing); else the change takes the API from under it.
	Missing bool `json:"missing,omitempty"`
}

// DependencyError refuses a change that would leave composite APIs
// without the APIs they call, naming each of them. It wraps
// store.ErrConflict (HTTP 409).
type DependencyError struct {
	Dependencies []Dependency
}

func (e *DependencyError) Unwrap() error { return store.ErrConflict }

func (e *DependencyError) Error() string {
	var parts []string
	// Composites whose own calls find nothing, one sentence each.
	for _, d := range e.Dependencies {
		if !d.Missing {
			continue
		}
		why := "which does not run there"
		if d.Reason == ReasonRouteOff {
			why = "whose running version has no such route online"
		}
		parts = append(parts, fmt.Sprintf("composite API %q calls route %q of service %q in group %q, %s; publish it there (with that route online) first",
			d.Service+"/"+d.Route, d.UsesRoute, d.UsesService, d.Group, why))
	}
	// Those the change takes an API from, one sentence per group and
	// service taken.
	type key struct{ group, service string }
	var order []key
	users := map[key][]string{}
	for _, d := range e.Dependencies {
		if d.Missing {
			continue
		}
		k := key{d.Group, d.UsesService}
		if _, ok := users[k]; !ok {
			order = append(order, k)
		}
		users[k] = append(users[k], fmt.Sprintf("composite API %q (route %q of service %q, calling route %q)",
			d.Service+"/"+d.Route, d.Route, d.Service, d.UsesRoute))
	}
	for _, k := range order {
		by := strings.Join(slices.Compact(users[k]), ", ")
		if k.group == "" {
			parts = append(parts, fmt.Sprintf("service %q is used by %s of the service templates; change or delete those first", k.service, by))
			continue
		}
		parts = append(parts, fmt.Sprintf("service %q is used in group %q by %s; take those off first", k.service, k.group, by))
	}
	return strings.Join(parts, "; ")
}

// compositeEdges are the calls of the online composite routes of what ds
// runs: its own version and those routed beside it. nil: nothing.
func compositeEdges(group string, ds *spec.DeployedService) []store.CompositeUse {
	if ds == nil {
		return nil
	}
	var out []store.CompositeUse
	add := func(version string, svc *spec.Service) {
		for ri := range svc.Routes {
			r := &svc.Routes[ri]
			if !r.IsOnline() || !r.IsComposite() {
				continue
			}
			for _, u := range r.Backend.Composite.Uses() {
				out = append(out, store.CompositeUse{Group: group, ProjectID: ds.ProjectID, ServiceID: ds.Service.ID,
					ServiceName: ds.Service.Name, Version: version, Route: r.Name, UsesService: u.Service, UsesRoute: u.Route})
			}
		}
	}
	add(ds.Version, &ds.Service)
	for vi := range ds.Versions {
		add(ds.Versions[vi].Version, &ds.Versions[vi].Service)
	}
	return out
}

// servesRoute reports whether svc (a running version) has the route
// online.
func servesRoute(svc *spec.Service, route string) bool {
	for ri := range svc.Routes {
		if svc.Routes[ri].Name == route {
			return svc.Routes[ri].IsOnline()
		}
	}
	return false
}

// dependency is the refusal of edge u for reason.
func dependency(u *store.CompositeUse, reason string, missing bool) Dependency {
	return Dependency{Group: u.Group, ProjectID: u.ProjectID, ServiceID: u.ServiceID, Service: u.ServiceName,
		Version: u.Version, Route: u.Route, UsesService: u.UsesService, UsesRoute: u.UsesRoute, Reason: reason, Missing: missing}
}

// guardService holds the invariant for a change confined to service in
// part's group (part: what the service runs after the change, absent if
// nothing) and records the service's edges. It reads the edges calling
// the service and, for each service the service's composites call, that
// service's running version: what the change touches.
func guardService(ctx context.Context, tx store.Tx, part *spec.GroupSnapshot, service string) error {
	group := part.Group.Name
	var ds *spec.DeployedService
	for si := range part.Services {
		if part.Services[si].Service.ID == service {
			ds = &part.Services[si]
		}
	}
	var broken []Dependency
	callers, err := tx.CompositeUsesOf(ctx, group, service)
	if err != nil {
		return fmt.Errorf("composite APIs using service %s in %q: %w", service, group, err)
	}
	for i := range callers {
		u := &callers[i]
		if u.ServiceID == service {
			continue // its own calls are checked below
		}
		switch {
		case ds == nil || ds.ProjectID != u.ProjectID || ds.Service.Name != u.UsesService:
			broken = append(broken, dependency(u, ReasonNotRunning, false))
		case !servesRoute(&ds.Service, u.UsesRoute):
			broken = append(broken, dependency(u, ReasonRouteOff, false))
		}
	}
	edges := compositeEdges(group, ds)
	r := resolver{ctx: ctx, tx: tx, group: group, self: ds, found: map[string]*spec.Service{}}
	for i := range edges {
		e := &edges[i]
		svc, err := r.running(e.ProjectID, e.UsesService)
		if err != nil {
			return err
		}
		switch {
		case svc == nil:
			broken = append(broken, dependency(e, ReasonNotRunning, true))
		case !servesRoute(svc, e.UsesRoute):
			broken = append(broken, dependency(e, ReasonRouteOff, true))
		default:
			e.UsesServiceID = svc.ID
		}
	}
	if len(broken) > 0 {
		return &DependencyError{Dependencies: broken}
	}
	return tx.PutCompositeUses(ctx, group, service, edges)
}

// resolver finds the version a group runs of a service by its running
// name, each name once.
type resolver struct {
	ctx   context.Context
	tx    store.Tx
	group string
	self  *spec.DeployedService // the changed service, as it runs after the change
	found map[string]*spec.Service
}

// running is the default version of the service of project running as
// name in the group, or nil.
func (r *resolver) running(project, name string) (*spec.Service, error) {
	if r.self != nil && r.self.ProjectID == project && r.self.Service.Name == name {
		return &r.self.Service, nil
	}
	key := project + "\x00" + name
	if svc, ok := r.found[key]; ok {
		return svc, nil
	}
	ids, err := r.tx.ServicesRunningAs(r.ctx, r.group, project, name)
	if err != nil {
		return nil, err
	}
	var svc *spec.Service
	for _, id := range ids {
		if r.self != nil && id == r.self.Service.ID {
			continue // runs under another name now
		}
		d, err := r.tx.GetDeployment(r.ctx, r.group, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("deployment of service %s in %q: %w", id, r.group, err)
		}
		v, err := r.tx.GetVersion(r.ctx, id, d.Version)
		if err != nil {
			return nil, fmt.Errorf("version %q of service %s: %w", d.Version, id, err)
		}
		v.Service.ID = id
		svc = &v.Service
		break
	}
	r.found[key] = svc
	return svc, nil
}

// guardGroup holds the invariant over a whole group's snapshot and
// rebuilds its edges. changed are the services the change names: a
// composite among them is refused for what it calls; one outside them,
// for what the change took away.
func guardGroup(ctx context.Context, tx store.Tx, gs *spec.GroupSnapshot, changed map[string]bool) error {
	group := gs.Group.Name
	type name struct{ project, service string }
	byName := map[name][]*spec.DeployedService{}
	for si := range gs.Services {
		ds := &gs.Services[si]
		k := name{ds.ProjectID, ds.Service.Name}
		byName[k] = append(byName[k], ds)
	}
	var all []store.CompositeUse
	var broken []Dependency
	for si := range gs.Services {
		edges := compositeEdges(group, &gs.Services[si])
		for i := range edges {
			e := &edges[i]
			missing := len(changed) == 0 || changed[e.ServiceID]
			providers := byName[name{e.ProjectID, e.UsesService}]
			for _, p := range providers {
				if servesRoute(&p.Service, e.UsesRoute) {
					e.UsesServiceID = p.Service.ID
					break
				}
			}
			switch {
			case len(providers) == 0:
				broken = append(broken, dependency(e, ReasonNotRunning, missing))
			case e.UsesServiceID == "":
				broken = append(broken, dependency(e, ReasonRouteOff, missing))
			}
		}
		all = append(all, edges...)
	}
	if len(broken) > 0 {
		return &DependencyError{Dependencies: broken}
	}
	if err := tx.ResetCompositeUses(ctx, group, all); err != nil {
		return fmt.Errorf("record the composite APIs of group %s: %w", group, err)
	}
	return nil
}

// changedServices are the services c's events name in group.
func (c *Change) changedServices(group string) map[string]bool {
	out := map[string]bool{}
	for _, ev := range c.Events {
		if ev.Group == group && ev.ServiceID != "" {
			out[ev.ServiceID] = true
		}
	}
	return out
}
