package release

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// A change confined to one service of a group (a publish, rollback, sync,
// lifecycle action or canary change) is checked and compiled for that
// service alone: the store assembles only it, the gateway's compiler
// compiles only it, and its routes are compared with the group's other
// routes through the store's index of route shapes, which Apply keeps up
// to date. So a publish costs what it touches, whatever the size of the
// group. Any other change (consumers, data sources, a group's settings, a
// move of many services) checks and compiles the whole group, and
// rebuilds the group's index when services' routes may have moved.

// scopedService is the one service c is confined to, or "" when it is not
// confined to one.
func (c *Change) scopedService() string {
	if c.Focus == "" {
		return ""
	}
	for _, ev := range c.Events {
		if ev.ServiceID != "" && ev.ServiceID != c.Focus {
			return ""
		}
	}
	return c.Focus
}

// checkService checks and compiles what service runs in group after the
// change, holds the composite APIs' dependencies (graph.go), and records
// its route shapes and composite calls. It answers false, having done
// nothing, when the group's index of route shapes is not complete yet (a
// group from before it existed): the whole group is checked instead.
func checkService(ctx context.Context, tx store.Tx, group, service string) (bool, error) {
	complete, err := tx.RouteShapesComplete(ctx, group)
	if err != nil || !complete {
		return false, err
	}
	part, err := tx.SnapshotServices(ctx, group, []string{service})
	if err != nil {
		return false, fmt.Errorf("assemble service %s in %s: %w", service, group, err)
	}
	var shapes []store.RouteShape
	for si := range part.Services {
		shapes = append(shapes, routeShapes(part.Group, &part.Services[si])...)
	}
	if err := shapeConflicts(ctx, tx, part.Group.Name, service, shapes); err != nil {
		return false, err
	}
	if err := routing.ValidateServices(&part); err != nil {
		return false, err
	}
	if err := tx.PutRouteShapes(ctx, group, service, shapes); err != nil {
		return false, fmt.Errorf("record the routes of service %s in %s: %w", service, group, err)
	}
	// After its shapes: the composites' calls find services by the names
	// the index holds (graph.go).
	if err := guardService(ctx, tx, &part, service); err != nil {
		return false, err
	}
	return true, nil
}

// resetShapes rebuilds the index of route shapes of every group of snap.
func resetShapes(ctx context.Context, tx store.Tx, snap *spec.Snapshot) error {
	for gi := range snap.Groups {
		gs := &snap.Groups[gi]
		var shapes []store.RouteShape
		for si := range gs.Services {
			shapes = append(shapes, routeShapes(gs.Group, &gs.Services[si])...)
		}
		if err := tx.ResetRouteShapes(ctx, gs.Group.Name, shapes); err != nil {
			return fmt.Errorf("index the routes of group %s: %w", gs.Group.Name, err)
		}
	}
	return nil
}

// routeShapes are the public paths of the service's online routes in the
// group, as the collision check compares them (one per route and shape).
func routeShapes(g spec.GatewayGroup, ds *spec.DeployedService) []store.RouteShape {
	var out []store.RouteShape
	for _, k := range serviceKeys(g, ds) {
		out = append(out, store.RouteShape{Shape: pathShape(k.path), Path: k.path, Methods: k.methods, Hosts: k.hosts,
			ProjectID: ds.ProjectID, ServiceID: ds.Service.ID, ServiceName: ds.Service.Name, RouteName: k.route.Name})
	}
	return out
}

// shapeConflicts compares the service's shapes with the other services'
// in the group, as snapshotConflicts does within a snapshot.
func shapeConflicts(ctx context.Context, tx store.Tx, group, service string, shapes []store.RouteShape) error {
	if len(shapes) == 0 {
		return nil
	}
	keys := make([]string, 0, len(shapes))
	for _, s := range shapes {
		keys = append(keys, s.Shape)
	}
	others, err := tx.FindRouteShapes(ctx, group, keys, service)
	if err != nil {
		return fmt.Errorf("routes of group %s: %w", group, err)
	}
	byShape := map[string][]store.RouteShape{}
	for _, o := range others {
		byShape[o.Shape] = append(byShape[o.Shape], o)
	}
	var out []Conflict
	reported := map[[2]string]bool{}
	for _, a := range shapes {
		for _, b := range byShape[a.Shape] {
			pair := [2]string{a.RouteName, b.ServiceID + "/" + b.RouteName}
			if reported[pair] {
				continue
			}
			method, ok := methodsOverlap(a.Methods, b.Methods)
			if !ok {
				continue
			}
			host, ok := keyHostsOverlap(a.Path, a.Hosts, b.Hosts)
			if !ok {
				continue
			}
			reported[pair] = true
			out = append(out, Conflict{Group: group, Path: a.Path, Method: method, Host: host,
				Service: a.ServiceName, Route: a.RouteName,
				OtherProject: b.ProjectID, OtherService: b.ServiceName, OtherRoute: b.RouteName})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &ConflictError{Conflicts: out}
}
