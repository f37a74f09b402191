package release

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// mapDataSources records, for a service in a group, which data source of
// the project stands in for which (the test and the production
// database). Keys and values are ids or names of the project's data
// sources; values are stored as ids. nil leaves the group's map as it is;
// an empty map clears it. Unknown names are spec.FieldErrors, all listed.
func mapDataSources(ctx context.Context, tx store.Tx, project, group, service string, m map[string]string) error {
	if m == nil {
		return nil
	}
	var fe spec.FieldErrors
	out := make(map[string]string, len(m))
	for _, from := range slices.Sorted(maps.Keys(m)) {
		src, err := tx.GetDataSource(ctx, project, from)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.Add("data_sources."+from, "no data source %q in project %q", from, project)
			continue
		case err != nil:
			return fmt.Errorf("data source %q: %w", from, err)
		}
		dst, err := tx.GetDataSource(ctx, project, m[from])
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.Add("data_sources."+from, "no data source %q in project %q to map to", m[from], project)
			continue
		case err != nil:
			return fmt.Errorf("data source %q: %w", m[from], err)
		}
		if src.Type != dst.Type {
			fe.Add("data_sources."+from, "%s is %s but %s is %s: a statement is compiled for one type", src.Name, src.Type, dst.Name, dst.Type)
			continue
		}
		out[src.ID], out[src.Name] = dst.ID, dst.ID
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return tx.PutDataSourceMap(ctx, group, service, out)
}

// sqlOnly reports whether every route of a service answers from a data
// source: such a service needs no upstream.
func sqlOnly(ctx context.Context, tx store.Tx, svc *spec.Service) bool {
	routes := svc.Routes
	if len(routes) == 0 && svc.ID != "" {
		routes, _ = tx.ListRoutes(ctx, svc.ID)
	}
	for _, r := range routes {
		if r.Backend == nil || r.Backend.Type != "sql" {
			return false
		}
	}
	return len(routes) > 0
}

// noUpstream is the empty upstream of a sql-only service.
func noUpstream(u spec.Upstream) bool {
	return len(u.Nodes) == 0 && u.Discovery == nil && u.URL == ""
}

// switchesKind reports a change between nodes and service discovery,
// which only a canary release may make; a sql-only service's empty
// upstream switches to nothing.
func switchesKind(prev, up spec.Upstream) bool {
	if noUpstream(prev) || noUpstream(up) {
		return false
	}
	return (len(prev.Nodes) > 0) != (up.Discovery == nil)
}
