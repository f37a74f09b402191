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

// answersItself reports whether every route of a service answers without
// the upstream (from a data source, or composite calls of other APIs):
// such a service needs no upstream.
func answersItself(ctx context.Context, tx store.Tx, svc *spec.Service) bool {
	routes := svc.Routes
	if len(routes) == 0 && svc.ID != "" {
		routes, _ = tx.ListRoutes(ctx, svc.ID)
	}
	for i := range routes {
		if !routes[i].AnswersItself() {
			return false
		}
	}
	return len(routes) > 0
}

// noUpstream is the empty upstream of a sql-only service.
func noUpstream(u spec.Upstream) bool {
	return len(u.Nodes) == 0 && u.Discovery == nil && u.URL == ""
}

// switchesKind reports a change between nodes (or a url) and service
// discovery,
// which only a canary release may make; a sql-only service's empty
// upstream switches to nothing.
func switchesKind(prev, up spec.Upstream) bool {
	if noUpstream(prev) || noUpstream(up) {
		return false
	}
	return (prev.Discovery != nil) != (up.Discovery != nil)
}

// DataSourceChanged commits an edit of data source d, already written in
// tx: every group whose snapshot carries it gets a new revision (its
// gateways reconnect with the new settings), with a data_source.update
// history event for each running service whose routes query it.
func DataSourceChanged(ctx context.Context, tx store.Tx, actor string, d spec.DataSource) error {
	groups, err := GroupNames(ctx, tx)
	if err != nil {
		return fmt.Errorf("commit data source %q: %w", d.Name, err)
	}
	snap, err := tx.Snapshot(ctx, groups)
	if err != nil {
		return fmt.Errorf("commit data source %q: %w", d.Name, err)
	}
	for _, gs := range snap.Groups {
		if !slices.ContainsFunc(gs.DataSources, func(x spec.DataSource) bool { return x.ID == d.ID }) {
			continue
		}
		var evs []spec.HistoryEvent
		for _, ds := range gs.Services {
			if queries(&ds.Service, d.ID) {
				evs = append(evs, spec.HistoryEvent{ProjectID: ds.ProjectID, ServiceID: ds.Service.ID, Group: gs.Group.Name,
					Action: "data_source.update", Version: ds.Version, FromVersion: ds.Version, Actor: actor,
					Detail: "data source " + d.Name + " changed"})
			}
		}
		if _, err := Apply(ctx, tx, Change{Groups: []string{gs.Group.Name}, Events: evs}); err != nil {
			return fmt.Errorf("commit data source %q: %w", d.Name, err)
		}
	}
	return nil
}

// queries reports whether a route of svc (as a snapshot carries it, data
// sources named by id) queries data source id.
func queries(svc *spec.Service, id string) bool {
	for _, r := range svc.Routes {
		if b := r.Backend; b != nil && b.SQLBackend != nil && b.DataSource == id {
			return true
		}
	}
	return false
}
