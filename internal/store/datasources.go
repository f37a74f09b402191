package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
)

const dataSourceCols = "id, project_id, spec, sealed, created_at, updated_at"

func scanDataSource(s scanner) (spec.DataSource, error) {
	var d spec.DataSource
	var body, sealed string
	var created, updated int64
	if err := s.Scan(&d.ID, &d.ProjectID, &body, &sealed, &created, &updated); err != nil {
		return spec.DataSource{}, err
	}
	var c jsonCodec
	c.decode("data source", body, &d)
	if c.err != nil {
		return spec.DataSource{}, c.err
	}
	d.Sealed, d.HasPassword = sealed, sealed != ""
	d.CreatedAt, d.UpdatedAt = fromNanos(created), fromNanos(updated)
	return d, nil
}

// dataSourceBody is the stored JSON: no password in any form.
func dataSourceBody(d *spec.DataSource) (string, error) {
	r := d.Redacted()
	r.HasPassword, r.CreatedAt, r.UpdatedAt = false, d.CreatedAt, d.UpdatedAt
	b, err := json.Marshal(r)
	return string(b), err
}

// CreateDataSource stores d; d.Sealed is its sealed password ("" none).
func (t *txn) CreateDataSource(ctx context.Context, d *spec.DataSource) error {
	if err := ensureID(&d.ID); err != nil {
		return err
	}
	ts := now()
	d.CreatedAt, d.UpdatedAt = ts, ts
	body, err := dataSourceBody(d)
	if err != nil {
		return fmt.Errorf("create data source %q: %w", d.Name, err)
	}
	_, err = t.exec(ctx, "INSERT INTO data_sources (id, project_id, name, spec, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		d.ID, d.ProjectID, d.Name, body, d.Sealed, toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("data source %q already exists in project %q: %w", d.Name, d.ProjectID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create data source %q: project %q: %w", d.Name, d.ProjectID, ErrNotFound)
		}
		return fmt.Errorf("create data source %q: %w", d.Name, err)
	}
	return nil
}

// GetDataSource finds a data source of the project by id, else by name;
// Sealed is filled (callers redact).
func (t *txn) GetDataSource(ctx context.Context, project, idOrName string) (spec.DataSource, error) {
	d, err := scanDataSource(t.queryRow(ctx, "SELECT "+dataSourceCols+` FROM data_sources
		WHERE project_id = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, project, idOrName))
	if err != nil {
		return spec.DataSource{}, notFound(err, "data source %q in project %q", idOrName, project)
	}
	return d, nil
}

func (t *txn) ListDataSources(ctx context.Context, project string, q ListQuery) ([]spec.DataSource, int, error) {
	out := []spec.DataSource{}
	total, err := t.page(ctx, listing{
		what:  fmt.Sprintf("list data sources of project %q", project),
		cols:  dataSourceCols,
		from:  "data_sources",
		where: "project_id = $1 AND " + likeClause(2, "name"),
		args:  []any{project, likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		d, err := scanDataSource(rows)
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateDataSource replaces data source d.ID, its sealed password included.
func (t *txn) UpdateDataSource(ctx context.Context, d *spec.DataSource) error {
	ts := now()
	d.UpdatedAt = ts
	body, err := dataSourceBody(d)
	if err != nil {
		return fmt.Errorf("update data source %q: %w", d.Name, err)
	}
	var created int64
	err = t.queryRow(ctx, `UPDATE data_sources SET name = $3, spec = $4, sealed = $5, updated_at = $6
		WHERE id = $1 AND project_id = $2 RETURNING created_at`,
		d.ID, d.ProjectID, d.Name, body, d.Sealed, toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("data source %q already exists in project %q: %w", d.Name, d.ProjectID, ErrConflict)
		}
		return notFound(err, "update data source %s in project %q", d.ID, d.ProjectID)
	}
	d.CreatedAt = fromNanos(created)
	return nil
}

// DeleteDataSource removes a data source; the caller checks its users
// first (DataSourceUsers).
func (t *txn) DeleteDataSource(ctx context.Context, project, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete data source %s in project %q", id, project),
		"DELETE FROM data_sources WHERE project_id = $1 AND id = $2", project, id)
}

// DataSourceUsers names what uses a data source: routes of service
// templates ("service/route"), routes of versions running in a group
// ("service@version in group/route") and the data-source maps of
// deployments ("service in group (map)"). Routes name a data source by id
// or name.
func (t *txn) DataSourceUsers(ctx context.Context, d *spec.DataSource) ([]string, error) {
	var out []string
	uses := func(r *spec.Route) bool {
		b := r.Backend
		return b != nil && b.SQLBackend != nil && (b.DataSource == d.ID || b.DataSource == d.Name)
	}
	err := t.each(ctx, "data source users", func(rows *sql.Rows) error {
		var svc, name, backend string
		if err := rows.Scan(&svc, &name, &backend); err != nil {
			return err
		}
		var r spec.Route
		if err := json.Unmarshal([]byte(backend), &r.Backend); err == nil && uses(&r) {
			out = append(out, svc+"/"+name)
		}
		return nil
	}, `SELECT s.name, r.name, r.backend FROM routes r JOIN services s ON s.id = r.service_id
		WHERE s.project_id = $1 ORDER BY s.name, r.name`, d.ProjectID)
	if err != nil {
		return nil, err
	}
	err = t.each(ctx, "data source users in groups", func(rows *sql.Rows) error {
		var group, version, body string
		if err := rows.Scan(&group, &version, &body); err != nil {
			return err
		}
		var svc spec.Service
		if err := json.Unmarshal([]byte(body), &svc); err != nil {
			return nil
		}
		for i := range svc.Routes {
			if uses(&svc.Routes[i]) {
				out = append(out, fmt.Sprintf("%s@%s in %s/%s", svc.Name, version, group, svc.Routes[i].Name))
			}
		}
		return nil
	}, `SELECT d.group_name, d.version, v.service FROM deployments d
		JOIN versions v ON v.service_id = d.service_id AND v.version = d.version
		WHERE d.project_id = $1 ORDER BY d.group_name`, d.ProjectID)
	if err != nil {
		return nil, err
	}
	err = t.each(ctx, "data source maps", func(rows *sql.Rows) error {
		var group, svc, mapping string
		if err := rows.Scan(&group, &svc, &mapping); err != nil {
			return err
		}
		var m map[string]string
		_ = json.Unmarshal([]byte(mapping), &m)
		for _, to := range m {
			if to == d.ID || to == d.Name {
				out = append(out, fmt.Sprintf("%s in %s (data-source map)", svc, group))
				break
			}
		}
		return nil
	}, `SELECT m.group_name, s.name, m.mapping FROM data_source_maps m JOIN services s ON s.id = m.service_id
		WHERE s.project_id = $1 ORDER BY m.group_name, s.name`, d.ProjectID)
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// PutDataSourceMap records, for a service in a group, which data source
// (id) stands in for which (id or name as the routes name it); an empty
// map removes it.
func (t *txn) PutDataSourceMap(ctx context.Context, group, service string, m map[string]string) error {
	if _, err := t.exec(ctx, "DELETE FROM data_source_maps WHERE group_name = $1 AND service_id = $2", group, service); err != nil {
		return fmt.Errorf("data-source map of %s in %q: %w", service, group, err)
	}
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("data-source map of %s in %q: %w", service, group, err)
	}
	if _, err := t.exec(ctx, "INSERT INTO data_source_maps (group_name, service_id, mapping) VALUES ($1, $2, $3)",
		group, service, string(b)); err != nil {
		return fmt.Errorf("data-source map of %s in %q: %w", service, group, err)
	}
	return nil
}

// GetDataSourceMap is the map of a service in a group (empty when none).
func (t *txn) GetDataSourceMap(ctx context.Context, group, service string) (map[string]string, error) {
	var text string
	err := t.queryRow(ctx, "SELECT mapping FROM data_source_maps WHERE group_name = $1 AND service_id = $2", group, service).Scan(&text)
	if err == sql.ErrNoRows {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data-source map of %s in %q: %w", service, group, err)
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("data-source map of %s in %q: %w", service, group, err)
	}
	return m, nil
}

// groupDataSources resolves the data sources of the sql routes a group
// runs: each route's data_source (id or name in the service's project),
// through the group's map for the service, becomes the target's id, and
// the target joins the snapshot with its password sealed. A data source
// that no longer exists is left as named: the gateway's compiler refuses
// the route, so a publish that would break it is refused.
func (t *txn) groupDataSources(ctx context.Context, group string, services []spec.DeployedService) ([]spec.DataSource, error) {
	var out []spec.DataSource
	seen := map[string]bool{}
	for si := range services {
		ds := &services[si]
		var m map[string]string
		for ri := range ds.Service.Routes {
			b := ds.Service.Routes[ri].Backend
			if b == nil || b.Type != "sql" || b.SQLBackend == nil {
				continue
			}
			if m == nil {
				var err error
				if m, err = t.GetDataSourceMap(ctx, group, ds.Service.ID); err != nil {
					return nil, err
				}
			}
			ref := b.DataSource
			if to, ok := m[ref]; ok {
				ref = to
			} else if src, err := t.GetDataSource(ctx, ds.ProjectID, ref); err == nil {
				if to, ok := m[src.ID]; ok {
					ref = to
				} else if to, ok := m[src.Name]; ok {
					ref = to
				}
			}
			d, err := t.GetDataSource(ctx, ds.ProjectID, ref)
			if err != nil {
				continue
			}
			// The route is a copy of the version's: point it at the id.
			nb := *b
			sb := *b.SQLBackend
			sb.DataSource = d.ID
			nb.SQLBackend = &sb
			ds.Service.Routes[ri].Backend = &nb
			if !seen[d.ID] {
				seen[d.ID] = true
				d.HasPassword = false
				out = append(out, d)
			}
		}
	}
	return out, nil
}
