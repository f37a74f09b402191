package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// RouteShape is one public path of one online route of a service
// deployed in a group, as the collision check compares them. The store
// keeps them (route_shapes) so that a release checks its own routes
// against the group's by an indexed lookup instead of loading the group.
type RouteShape struct {
	Shape, Path    string   // normalised pattern; the path as configured (group prefix included)
	Methods, Hosts []string // as the route answers them (empty: all)

	ProjectID, ServiceID, ServiceName, RouteName string
}

const routeShapeCols = "shape, path, methods, hosts, project_id, service_id, service_name, route_name"

// shapeRowArgs is how many values one row binds besides the group.
const shapeRowArgs = 8

func scanRouteShape(s scanner) (RouteShape, error) {
	var r RouteShape
	var methods, hosts string
	if err := s.Scan(&r.Shape, &r.Path, &methods, &hosts, &r.ProjectID, &r.ServiceID, &r.ServiceName, &r.RouteName); err != nil {
		return RouteShape{}, err
	}
	var c jsonCodec
	c.decode("methods", methods, &r.Methods)
	c.decode("hosts", hosts, &r.Hosts)
	return r, c.err
}

// PutRouteShapes replaces the shapes of one service in a group (none: it
// no longer runs there). The service must be deployed in the group
// (ErrNotFound otherwise), and its shapes go with its deployment: deleting
// the deployment deletes them, so the index never names a service that
// does not run in the group. A shape's ServiceID is service when left
// empty; another one is refused. Of several shapes of one route with the
// same Shape only the first is kept, as the collision check keeps it.
func (t *txn) PutRouteShapes(ctx context.Context, group, service string, shapes []RouteShape) error {
	what := fmt.Sprintf("route shapes of service %s in %q", service, group)
	rows := make([]RouteShape, len(shapes))
	for i, s := range shapes {
		switch s.ServiceID {
		case "":
			s.ServiceID = service
		case service:
		default:
			return fmt.Errorf("%s: route %q is of service %s", what, s.RouteName, s.ServiceID)
		}
		rows[i] = s
	}
	if _, err := t.exec(ctx, "DELETE FROM route_shapes WHERE group_name = $1 AND service_id = $2", group, service); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return t.insertRouteShapes(ctx, what, group, rows)
}

// ResetRouteShapes replaces every shape of a group and marks its index
// complete. Every shape names its service, which must be deployed in the
// group (ErrNotFound otherwise, as for a missing group).
func (t *txn) ResetRouteShapes(ctx context.Context, group string, shapes []RouteShape) error {
	what := fmt.Sprintf("reset the route shapes of %q", group)
	for _, s := range shapes {
		if s.ServiceID == "" {
			return fmt.Errorf("%s: route %q has no service id", what, s.RouteName)
		}
	}
	if err := t.execOne(ctx, what, "UPDATE gateway_groups SET route_shapes_complete = 1 WHERE name = $1", group); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "DELETE FROM route_shapes WHERE group_name = $1", group); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return t.insertRouteShapes(ctx, what, group, shapes)
}

// insertRouteShapes writes rows of group, a few hundred values a
// statement, skipping a repeated (service, route, shape).
func (t *txn) insertRouteShapes(ctx context.Context, what, group string, shapes []RouteShape) error {
	type key struct{ service, route, shape string }
	seen := make(map[key]bool, len(shapes))
	rows := make([]RouteShape, 0, len(shapes))
	for _, s := range shapes {
		k := key{s.ServiceID, s.RouteName, s.Shape}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, s)
		}
	}
	for chunk := range slices.Chunk(rows, bindChunk/shapeRowArgs) {
		args := make([]any, 0, 1+len(chunk)*shapeRowArgs)
		args = append(args, group)
		var values strings.Builder
		for i, s := range chunk {
			var c jsonCodec
			methods, hosts := c.encode("methods", s.Methods), c.encode("hosts", s.Hosts)
			if c.err != nil {
				return fmt.Errorf("%s: %w", what, c.err)
			}
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("($1, " + placeholders(len(args)+1, shapeRowArgs) + ")")
			args = append(args, s.Shape, s.Path, methods, hosts, s.ProjectID, s.ServiceID, s.ServiceName, s.RouteName)
		}
		_, err := t.exec(ctx, "INSERT INTO route_shapes (group_name, "+routeShapeCols+") VALUES "+values.String(), args...)
		if err != nil {
			if t.kind(err) == errForeignKey {
				return fmt.Errorf("%s: a service is not deployed in the group: %w", what, ErrNotFound)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// RouteShapesComplete reports whether the group's index is complete: true
// for a group created since the index exists, or that ran nothing when it
// came; false for one that ran services then, until ResetRouteShapes ran.
// A missing group is ErrNotFound.
func (t *txn) RouteShapesComplete(ctx context.Context, group string) (bool, error) {
	var complete int
	err := t.queryRow(ctx, "SELECT route_shapes_complete FROM gateway_groups WHERE name = $1", group).Scan(&complete)
	if err != nil {
		return false, notFound(err, "route shapes of %q", group)
	}
	return complete == 1, nil
}

// FindRouteShapes returns the group's shapes equal to any of shapes, of
// services other than except, ordered by shape, service id, route name and
// path (byte order). The lookup is indexed on (group, shape) and binds the
// shapes a few hundred at a time.
func (t *txn) FindRouteShapes(ctx context.Context, group string, shapes []string, except string) ([]RouteShape, error) {
	want := slices.Clone(shapes)
	slices.Sort(want)
	want = slices.Compact(want)
	out := []RouteShape{}
	what := fmt.Sprintf("find route shapes in %q", group)
	for chunk := range slices.Chunk(want, bindChunk) {
		args := make([]any, 0, len(chunk)+2)
		args = append(args, group, except)
		for _, s := range chunk {
			args = append(args, s)
		}
		err := t.each(ctx, what, func(rows *sql.Rows) error {
			r, err := scanRouteShape(rows)
			out = append(out, r)
			return err
		}, "SELECT "+routeShapeCols+" FROM route_shapes WHERE group_name = $1 AND service_id <> $2 AND shape IN ("+
			placeholders(3, len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b RouteShape) int {
		return cmp.Or(cmp.Compare(a.Shape, b.Shape), cmp.Compare(a.ServiceID, b.ServiceID),
			cmp.Compare(a.RouteName, b.RouteName), cmp.Compare(a.Path, b.Path))
	})
	return out, nil
}
