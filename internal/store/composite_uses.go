package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

// CompositeUse is one edge of the dependency graph of composite APIs as a
// group runs it (migration 00031): an online composite route of a version
// of a deployed service calls an API (service and route, by name, in the
// composite's project). UsesServiceID is the service that answered to the
// name in the group when the edge was written.
type CompositeUse struct {
	Group, ProjectID, ServiceID, ServiceName string // the composite's deployment
	Version, Route                           string // the version and route that call
	UsesService, UsesRoute, UsesServiceID    string
}

const compositeUseCols = "group_name, service_id, version, route_name, uses_service, uses_route, project_id, service_name, uses_service_id"

// compositeUseRowArgs is how many values one row binds.
const compositeUseRowArgs = 9

func scanCompositeUse(s scanner) (CompositeUse, error) {
	var u CompositeUse
	err := s.Scan(&u.Group, &u.ServiceID, &u.Version, &u.Route, &u.UsesService, &u.UsesRoute, &u.ProjectID, &u.ServiceName, &u.UsesServiceID)
	return u, err
}

// sortCompositeUses orders edges by group, composite service name, id,
// version, route, then the API used.
func sortCompositeUses(us []CompositeUse) {
	slices.SortFunc(us, func(a, b CompositeUse) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.ServiceName, b.ServiceName), cmp.Compare(a.ServiceID, b.ServiceID),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.Route, b.Route),
			cmp.Compare(a.UsesService, b.UsesService), cmp.Compare(a.UsesRoute, b.UsesRoute))
	})
}

// PutCompositeUses replaces the edges of one composite service in a group
// (none: it calls nothing there, or no longer runs there). Every edge must
// be of that group and service (an empty Group or ServiceID is taken as
// them), and the service deployed in the group (ErrNotFound otherwise).
func (t *txn) PutCompositeUses(ctx context.Context, group, service string, uses []CompositeUse) error {
	what := fmt.Sprintf("composite uses of service %s in %q", service, group)
	rows := make([]CompositeUse, len(uses))
	for i, u := range uses {
		if u.Group == "" {
			u.Group = group
		}
		if u.ServiceID == "" {
			u.ServiceID = service
		}
		if u.Group != group || u.ServiceID != service {
			return fmt.Errorf("%s: an edge of service %s in %q", what, u.ServiceID, u.Group)
		}
		rows[i] = u
	}
	if _, err := t.exec(ctx, "DELETE FROM composite_uses WHERE group_name = $1 AND service_id = $2", group, service); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return t.insertCompositeUses(ctx, what, rows)
}

// ResetCompositeUses replaces every edge of a group.
func (t *txn) ResetCompositeUses(ctx context.Context, group string, uses []CompositeUse) error {
	what := fmt.Sprintf("reset the composite uses of %q", group)
	rows := make([]CompositeUse, len(uses))
	for i, u := range uses {
		if u.Group == "" {
			u.Group = group
		}
		if u.Group != group || u.ServiceID == "" {
			return fmt.Errorf("%s: an edge of service %q in %q", what, u.ServiceID, u.Group)
		}
		rows[i] = u
	}
	if _, err := t.exec(ctx, "DELETE FROM composite_uses WHERE group_name = $1", group); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return t.insertCompositeUses(ctx, what, rows)
}

// insertCompositeUses writes rows, a few hundred values a statement,
// skipping a repeated edge.
func (t *txn) insertCompositeUses(ctx context.Context, what string, uses []CompositeUse) error {
	type key struct{ group, service, version, route, usesService, usesRoute string }
	seen := make(map[key]bool, len(uses))
	rows := make([]CompositeUse, 0, len(uses))
	for _, u := range uses {
		k := key{u.Group, u.ServiceID, u.Version, u.Route, u.UsesService, u.UsesRoute}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, u)
		}
	}
	for chunk := range slices.Chunk(rows, bindChunk/compositeUseRowArgs) {
		args := make([]any, 0, len(chunk)*compositeUseRowArgs)
		var values strings.Builder
		for i, u := range chunk {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString("(" + placeholders(len(args)+1, compositeUseRowArgs) + ")")
			args = append(args, u.Group, u.ServiceID, u.Version, u.Route, u.UsesService, u.UsesRoute, u.ProjectID, u.ServiceName, u.UsesServiceID)
		}
		if _, err := t.exec(ctx, "INSERT INTO composite_uses ("+compositeUseCols+") VALUES "+values.String(), args...); err != nil {
			if t.kind(err) == errForeignKey {
				return fmt.Errorf("%s: a composite service is not deployed in its group: %w", what, ErrNotFound)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// CompositeUsesOf answers the edges that call service (by id, as resolved
// when they were written): in group, or in every group when group is "".
func (t *txn) CompositeUsesOf(ctx context.Context, group, service string) ([]CompositeUse, error) {
	q := "SELECT " + compositeUseCols + " FROM composite_uses WHERE uses_service_id = $1"
	args := []any{service}
	if group != "" {
		q += " AND group_name = $2"
		args = append(args, group)
	}
	return t.compositeUses(ctx, fmt.Sprintf("composite APIs using service %s", service), q, args...)
}

// CompositeUsesBy answers the edges of the composite service in every
// group it runs in.
func (t *txn) CompositeUsesBy(ctx context.Context, service string) ([]CompositeUse, error) {
	return t.compositeUses(ctx, fmt.Sprintf("APIs composite service %s uses", service),
		"SELECT "+compositeUseCols+" FROM composite_uses WHERE service_id = $1", service)
}

func (t *txn) compositeUses(ctx context.Context, what, q string, args ...any) ([]CompositeUse, error) {
	out := []CompositeUse{}
	err := t.each(ctx, what, func(rows *sql.Rows) error {
		u, err := scanCompositeUse(rows)
		out = append(out, u)
		return err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	sortCompositeUses(out)
	return out, nil
}

// ServicesRunningAs answers the ids of the services of project that run
// in group under name (their running version's name) with at least one
// online route, from the group's route-shape index (sorted).
func (t *txn) ServicesRunningAs(ctx context.Context, group, project, name string) ([]string, error) {
	out := []string{}
	err := t.each(ctx, fmt.Sprintf("services running as %q in %q", name, group), func(rows *sql.Rows) error {
		var id string
		err := rows.Scan(&id)
		out = append(out, id)
		return err
	}, "SELECT DISTINCT service_id FROM route_shapes WHERE group_name = $1 AND project_id = $2 AND service_name = $3 ORDER BY service_id",
		group, project, name)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TemplateRoute is a route of a service template with its service's name.
type TemplateRoute struct {
	ServiceName string
	Route       spec.Route // ServiceID set
}

// extraScan scans a row's leading columns with a scanner made for them and
// the trailing ones into extra.
type extraScan struct {
	rows  *sql.Rows
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.extra...)...) }

// ListCompositeRoutes answers the routes of the project's service
// templates whose backend is composite, by service name and route
// creation. The backend's JSON narrows the rows in the database; each is
// decoded and checked.
func (t *txn) ListCompositeRoutes(ctx context.Context, project string) ([]TemplateRoute, error) {
	out := []TemplateRoute{}
	err := t.each(ctx, fmt.Sprintf("composite routes of project %q", project), func(rows *sql.Rows) error {
		var name string
		r, err := scanRoute(extraScan{rows: rows, extra: []any{&name}})
		if err != nil {
			return err
		}
		if r.IsComposite() {
			out = append(out, TemplateRoute{ServiceName: name, Route: r})
		}
		return nil
	}, "SELECT "+routeCols+", (SELECT name FROM services s WHERE s.id = routes.service_id) FROM routes"+
		" WHERE service_id IN (SELECT id FROM services WHERE project_id = $1) AND backend LIKE $2 ORDER BY created_at, id",
		project, `%"`+spec.BackendComposite+`"%`)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b TemplateRoute) int { return cmp.Compare(a.ServiceName, b.ServiceName) })
	return out, nil
}
