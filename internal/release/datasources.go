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
// the project stands in for which (seed 001: the test and the production
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
