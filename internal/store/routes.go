package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const routeCols = `id, service_id, name, description, paths, methods, hosts, plugins, backend, online,
	openapi, parameters, responses, error_codes, created_at, updated_at`

func scanRoute(s scanner) (spec.Route, error) {
	var r spec.Route
	var paths, methods, hosts, plugins, backend, openapi, params, responses, errs string
	var online sql.NullBool
	var created, updated int64
	if err := s.Scan(&r.ID, &r.ServiceID, &r.Name, &r.Description, &paths, &methods, &hosts, &plugins,
		&backend, &online, &openapi, &params, &responses, &errs, &created, &updated); err != nil {
		return spec.Route{}, err
	}
	var c jsonCodec
	c.decode("paths", paths, &r.Paths)
	c.decode("methods", methods, &r.Methods)
	c.decode("hosts", hosts, &r.Hosts)
	c.decode("plugins", plugins, &r.Plugins)
	c.decode("backend", backend, &r.Backend)
	c.decodeOptional("parameters", params, &r.Parameters)
	c.decodeOptional("responses", responses, &r.Responses)
	c.decodeOptional("error_codes", errs, &r.Errors)
	if c.err != nil {
		return spec.Route{}, c.err
	}
	if online.Valid {
		r.Online = &online.Bool
	}
	r.OpenAPI = rawOrNil(openapi)
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, nil
}

// routeArgs are the columns after id and service_id, in routeCols order, up
// to and excluding the timestamps.
func routeArgs(r *spec.Route) ([]any, error) {
	// online is an INTEGER column (portable, unlike BOOLEAN on SQLite);
	// NULL keeps "not set" apart from an explicit true.
	var online sql.NullInt64
	if r.Online != nil {
		online.Valid = true
		if *r.Online {
			online.Int64 = 1
		}
	}
	var c jsonCodec
	args := []any{r.Name, r.Description, c.encode("paths", r.Paths), c.encode("methods", r.Methods),
		c.encode("hosts", r.Hosts), c.encode("plugins", r.Plugins), c.encode("backend", r.Backend), online,
		string(r.OpenAPI), encodeList(&c, "parameters", r.Parameters), encodeList(&c, "responses", r.Responses),
		encodeList(&c, "error_codes", r.Errors)}
	return args, c.err
}

func (t *txn) CreateRoute(ctx context.Context, r *spec.Route) error {
	if err := ensureID(&r.ID); err != nil {
		return err
	}
	cols, err := routeArgs(r)
	if err != nil {
		return fmt.Errorf("create route %q: %w", r.Name, err)
	}
	ts := now()
	r.CreatedAt, r.UpdatedAt = ts, ts
	args := append(append([]any{r.ID, r.ServiceID}, cols...), toNanos(ts), toNanos(ts))
	_, err = t.exec(ctx, "INSERT INTO routes ("+routeCols+") VALUES ("+placeholders(1, len(args))+")", args...)
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("route %q already exists in service %s: %w", r.Name, r.ServiceID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create route %q: service %s: %w", r.Name, r.ServiceID, ErrNotFound)
		}
		return fmt.Errorf("create route %q: %w", r.Name, err)
	}
	return nil
}

// GetRoute finds a route of the service by id, else by name.
func (t *txn) GetRoute(ctx context.Context, service, idOrName string) (spec.Route, error) {
	r, err := scanRoute(t.queryRow(ctx, "SELECT "+routeCols+` FROM routes
		WHERE service_id = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, service, idOrName))
	if err != nil {
		return spec.Route{}, notFound(err, "route %q in service %s", idOrName, service)
	}
	return r, nil
}

// ListRoutes returns all routes of a service in creation order.
func (t *txn) ListRoutes(ctx context.Context, service string) ([]spec.Route, error) {
	out := []spec.Route{}
	err := t.each(ctx, fmt.Sprintf("list routes of service %s", service), func(rows *sql.Rows) error {
		r, err := scanRoute(rows)
		out = append(out, r)
		return err
	}, "SELECT "+routeCols+" FROM routes WHERE service_id = $1 ORDER BY created_at, id", service)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRoute replaces route r.ID of service r.ServiceID.
func (t *txn) UpdateRoute(ctx context.Context, r *spec.Route) error {
	cols, err := routeArgs(r)
	if err != nil {
		return fmt.Errorf("update route %s: %w", r.ID, err)
	}
	ts := now()
	args := append(append([]any{r.ID, r.ServiceID}, cols...), toNanos(ts))
	var created int64
	err = t.queryRow(ctx, `UPDATE routes SET name = $3, description = $4, paths = $5, methods = $6,
			hosts = $7, plugins = $8, backend = $9, online = $10, openapi = $11, parameters = $12,
			responses = $13, error_codes = $14, updated_at = $15
		WHERE id = $1 AND service_id = $2 RETURNING created_at`, args...).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("route %q already exists in service %s: %w", r.Name, r.ServiceID, ErrConflict)
		}
		return notFound(err, "update route %s in service %s", r.ID, r.ServiceID)
	}
	r.CreatedAt, r.UpdatedAt = fromNanos(created), ts
	return nil
}

func (t *txn) DeleteRoute(ctx context.Context, service, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete route %s in service %s", id, service),
		"DELETE FROM routes WHERE service_id = $1 AND id = $2", service, id)
}

// rawOrNil turns a stored OpenAPI fragment back into JSON; ” is "none".
func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// encodeList stores a list column; none is the empty text, as rows from before the
// column have it.
func encodeList[T any](c *jsonCodec, field string, list []T) string {
	if len(list) == 0 {
		return ""
	}
	return c.encode(field, list)
}
