package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const auditCols = "id, actor, action, resource, project, client, detail, at"

func scanAudit(s scanner) (spec.AuditEvent, error) {
	var e spec.AuditEvent
	var detail sql.NullString
	var at int64
	if err := s.Scan(&e.ID, &e.Actor, &e.Action, &e.Resource, &e.Project, &e.Client, &detail, &at); err != nil {
		return spec.AuditEvent{}, err
	}
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	e.At = fromNanos(at)
	return e, nil
}

// AddAudit appends an audit event; it sets ID, At when zero, and Project
// when empty and the resource is under /projects/{p}: whoever writes the
// event (the admin API, the release package's publishes), a project's
// readers of the log find it there. Detail must be valid JSON when
// present: it is served back as is.
func (t *txn) AddAudit(ctx context.Context, e *spec.AuditEvent) error {
	if e.Project == "" {
		e.Project = ResourceProject(e.Resource)
	}
	var detail sql.NullString
	if len(e.Detail) > 0 {
		if !json.Valid(e.Detail) {
			return fmt.Errorf("add audit %s: detail is not valid JSON", e.Action)
		}
		detail = sql.NullString{String: string(e.Detail), Valid: true}
	}
	id, err := t.nextID(ctx, "audit")
	if err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = now()
	}
	_, err = t.exec(ctx, "INSERT INTO audit ("+auditCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		id, e.Actor, e.Action, e.Resource, e.Project, e.Client, detail, toNanos(e.At))
	if err != nil {
		return fmt.Errorf("add audit %s: %w", e.Action, err)
	}
	e.ID = id
	return nil
}

// ResourceProject is the project of a resource path "/projects/{p}/…",
// "" for any other.
func ResourceProject(resource string) string {
	rest, ok := strings.CutPrefix(resource, "/projects/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

// AuditFilter narrows ListAudit. Empty fields do not filter.
type AuditFilter struct {
	Q        string // a substring of the actor, action or resource
	Actor    string // exactly this actor
	Action   string // this action, or a family of them ending in "." ("service.")
	Resource string // this resource or anything under it
	// Projects limits events to these projects when AllProjects is false
	// (a caller who sees only some projects).
	Projects    []string
	AllProjects bool
	Project     string // exactly this project
	Since       time.Time
	Until       time.Time
	AfterID     int64 // only events with a higher id (an export's next page)
}

// where builds the filter's WHERE clause and arguments.
func (f AuditFilter) where() (string, []any) {
	var parts []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Q != "" {
		parts = append(parts, likeClause(len(args)+1, "actor", "action", "resource"))
		args = append(args, likePattern(f.Q))
	}
	if f.Actor != "" {
		parts = append(parts, "actor = "+arg(f.Actor))
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			parts = append(parts, "SUBSTR(action, 1, "+arg(len(f.Action))+") = "+arg(f.Action))
		} else {
			parts = append(parts, "action = "+arg(f.Action))
		}
	}
	if f.Resource != "" {
		r := strings.TrimSuffix(f.Resource, "/")
		parts = append(parts, "(resource = "+arg(r)+" OR SUBSTR(resource, 1, "+arg(len(r)+1)+") = "+arg(r+"/")+")")
	}
	if f.Project != "" {
		parts = append(parts, "project = "+arg(f.Project))
	}
	if !f.AllProjects {
		if len(f.Projects) == 0 {
			parts = append(parts, "1 = 0")
		} else {
			ph := make([]string, len(f.Projects))
			for i, p := range f.Projects {
				ph[i] = arg(p)
			}
			parts = append(parts, "project IN ("+strings.Join(ph, ", ")+")")
		}
	}
	if !f.Since.IsZero() {
		parts = append(parts, "at >= "+arg(toNanos(f.Since)))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "at < "+arg(toNanos(f.Until)))
	}
	if f.AfterID > 0 {
		parts = append(parts, "id > "+arg(f.AfterID))
	}
	if len(parts) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(parts, " AND "), args
}

// ListAudit returns one page of the events f selects, newest first
// (q.Q filters like f.Q when f.Q is empty).
func (t *txn) ListAudit(ctx context.Context, f AuditFilter, q ListQuery) ([]spec.AuditEvent, int, error) {
	out := []spec.AuditEvent{}
	if f.Q == "" {
		f.Q = q.Q
	}
	where, args := f.where()
	total, err := t.page(ctx, listing{
		what:  "list audit events",
		cols:  auditCols,
		from:  "audit",
		where: where,
		args:  args,
		order: "id DESC",
	}, q, func(rows *sql.Rows) error {
		e, err := scanAudit(rows)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// ScanAudit calls fn for up to limit events f selects, oldest first (an
// export), and answers how many it called fn for.
func (t *txn) ScanAudit(ctx context.Context, f AuditFilter, limit int, fn func(spec.AuditEvent) error) (int, error) {
	where, args := f.where()
	n := 0
	err := t.each(ctx, "export audit events", func(rows *sql.Rows) error {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		n++
		return fn(e)
	}, fmt.Sprintf("SELECT %s FROM audit WHERE %s ORDER BY id LIMIT %d", auditCols, where, limit), args...)
	return n, err
}

// PruneAudit deletes events older than cutoff and answers how many went.
func (t *txn) PruneAudit(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM audit WHERE at < $1", toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return int(n), nil
}
