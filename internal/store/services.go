package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const serviceCols = `id, project_id, name, description, labels, protocols, path, hosts, plugins,
	upstream_id, upstream, state, created_at, updated_at, folder_id, openapi, type, stream_routes,
	https_redirect_status_code`

func scanService(s scanner) (spec.Service, error) {
	var v spec.Service
	var labels, protocols, hosts, plugins, upstream, openapi, streamRoutes string
	var upstreamID, folderID sql.NullString
	var created, updated int64
	if err := s.Scan(&v.ID, &v.ProjectID, &v.Name, &v.Description, &labels, &protocols, &v.Path,
		&hosts, &plugins, &upstreamID, &upstream, &v.State, &created, &updated, &folderID, &openapi,
		&v.Type, &streamRoutes, &v.HTTPSRedirectStatusCode); err != nil {
		return spec.Service{}, err
	}
	var c jsonCodec
	c.decode("labels", labels, &v.Labels)
	c.decode("protocols", protocols, &v.Protocols)
	c.decode("hosts", hosts, &v.Hosts)
	c.decode("plugins", plugins, &v.Plugins)
	c.decode("upstream", upstream, &v.Upstream)
	if streamRoutes != "" { // '': a service from before stream services
		c.decode("stream_routes", streamRoutes, &v.StreamRoutes)
	}
	if c.err != nil {
		return spec.Service{}, c.err
	}
	v.UpstreamID, v.FolderID = upstreamID.String, folderID.String
	v.OpenAPI = rawOrNil(openapi)
	v.CreatedAt, v.UpdatedAt = fromNanos(created), fromNanos(updated)
	return v, nil
}

// serviceArgs are the columns after id and project_id, in serviceCols
// order, up to and excluding the timestamps.
func serviceArgs(s *spec.Service) ([]any, error) {
	var c jsonCodec
	args := []any{s.Name, s.Description, c.encode("labels", s.Labels), c.encode("protocols", s.Protocols),
		s.Path, c.encode("hosts", s.Hosts), c.encode("plugins", s.Plugins),
		nullString(s.UpstreamID), c.encode("upstream", s.Upstream), s.State}
	return args, c.err
}

// serviceTypeArgs are the last columns of serviceCols: the type, the
// stream routes and the HTTPS redirect.
func serviceTypeArgs(s *spec.Service) ([]any, error) {
	routes := ""
	if len(s.StreamRoutes) > 0 {
		var c jsonCodec
		if routes = c.encode("stream_routes", s.StreamRoutes); c.err != nil {
			return nil, c.err
		}
	}
	return []any{s.Type, routes, s.HTTPSRedirectStatusCode}, nil
}

// CreateService stores a service template without its routes.
func (t *txn) CreateService(ctx context.Context, s *spec.Service) error {
	if err := ensureID(&s.ID); err != nil {
		return err
	}
	cols, err := serviceArgs(s)
	if err != nil {
		return fmt.Errorf("create service %q: %w", s.Name, err)
	}
	typeArgs, err := serviceTypeArgs(s)
	if err != nil {
		return fmt.Errorf("create service %q: %w", s.Name, err)
	}
	ts := now()
	s.CreatedAt, s.UpdatedAt = ts, ts
	args := append(append([]any{s.ID, s.ProjectID}, cols...), toNanos(ts), toNanos(ts), nullString(s.FolderID),
		string(s.OpenAPI))
	args = append(args, typeArgs...)
	_, err = t.exec(ctx, "INSERT INTO services ("+serviceCols+") VALUES ("+placeholders(1, len(args))+")", args...)
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("service %q already exists in project %q: %w", s.Name, s.ProjectID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create service %q: project %q, its upstream %q or its folder %q: %w",
				s.Name, s.ProjectID, s.UpstreamID, s.FolderID, ErrNotFound)
		}
		return fmt.Errorf("create service %q: %w", s.Name, err)
	}
	return nil
}

// GetService finds a service of the project by id, else by name; Routes
// stay empty (ListRoutes reads them).
func (t *txn) GetService(ctx context.Context, project, idOrName string) (spec.Service, error) {
	s, err := scanService(t.queryRow(ctx, "SELECT "+serviceCols+` FROM services
		WHERE project_id = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, project, idOrName))
	if err != nil {
		return spec.Service{}, notFound(err, "service %q in project %q", idOrName, project)
	}
	if err := t.fillFolderPath(ctx, &s, nil); err != nil {
		return spec.Service{}, fmt.Errorf("service %q in project %q: %w", idOrName, project, err)
	}
	return s, nil
}

func (t *txn) ListServices(ctx context.Context, project string, q ListQuery) ([]spec.Service, int, error) {
	out := []spec.Service{}
	total, err := t.page(ctx, listing{
		what:  fmt.Sprintf("list services of project %q", project),
		cols:  serviceCols,
		from:  "services",
		where: "project_id = $1 AND " + likeClause(2, "name"),
		args:  []any{project, likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		s, err := scanService(rows)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	cache := map[string]string{}
	for i := range out {
		if err := t.fillFolderPath(ctx, &out[i], cache); err != nil {
			return nil, 0, fmt.Errorf("list services of project %q: %w", project, err)
		}
	}
	return out, total, nil
}

// UpdateService replaces service s.ID of project s.ProjectID; its routes
// are untouched.
func (t *txn) UpdateService(ctx context.Context, s *spec.Service) error {
	cols, err := serviceArgs(s)
	if err != nil {
		return fmt.Errorf("update service %s: %w", s.ID, err)
	}
	typeArgs, err := serviceTypeArgs(s)
	if err != nil {
		return fmt.Errorf("update service %s: %w", s.ID, err)
	}
	ts := now()
	args := append(append([]any{s.ID, s.ProjectID}, cols...), toNanos(ts), nullString(s.FolderID),
		string(s.OpenAPI))
	args = append(args, typeArgs...)
	var created int64
	err = t.queryRow(ctx, `UPDATE services SET name = $3, description = $4, labels = $5, protocols = $6,
			path = $7, hosts = $8, plugins = $9, upstream_id = $10, upstream = $11, state = $12,
			updated_at = $13, folder_id = $14, openapi = $15, type = $16, stream_routes = $17,
			https_redirect_status_code = $18
		WHERE id = $1 AND project_id = $2 RETURNING created_at`, args...).Scan(&created)
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("service %q already exists in project %q: %w", s.Name, s.ProjectID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("update service %s: upstream %q or folder %q in project %q: %w", s.ID, s.UpstreamID, s.FolderID, s.ProjectID, ErrNotFound)
		}
		return notFound(err, "update service %s in project %q", s.ID, s.ProjectID)
	}
	s.CreatedAt, s.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteService removes a service with its routes, versions and history.
// A service still deployed in some group is ErrConflict: the caller removes
// the deployments first (and so decides which gateways change).
func (t *txn) DeleteService(ctx context.Context, project, id string) error {
	var deployed int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM deployments WHERE project_id = $1 AND service_id = $2", project, id).Scan(&deployed)
	if err != nil {
		return fmt.Errorf("delete service %s: %w", id, err)
	}
	if deployed > 0 {
		return fmt.Errorf("delete service %s: deployed in %d gateway groups: %w", id, deployed, ErrConflict)
	}
	err = t.execOne(ctx, fmt.Sprintf("delete service %s in project %q", id, project),
		"DELETE FROM services WHERE project_id = $1 AND id = $2", project, id)
	if err != nil && t.kind(err) == errForeignKey {
		return fmt.Errorf("delete service %s: still deployed: %w", id, ErrConflict)
	}
	return err
}
