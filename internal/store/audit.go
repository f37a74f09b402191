package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const auditCols = "id, actor, action, resource, detail, at"

func scanAudit(s scanner) (spec.AuditEvent, error) {
	var e spec.AuditEvent
	var detail sql.NullString
	var at int64
	if err := s.Scan(&e.ID, &e.Actor, &e.Action, &e.Resource, &detail, &at); err != nil {
		return spec.AuditEvent{}, err
	}
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	e.At = fromNanos(at)
	return e, nil
}

// AddAudit appends an audit event; it sets ID, and At when zero. Detail must
// be valid JSON when present: it is served back as is.
func (t *txn) AddAudit(ctx context.Context, e *spec.AuditEvent) error {
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
	_, err = t.exec(ctx, "INSERT INTO audit ("+auditCols+") VALUES ($1, $2, $3, $4, $5, $6)",
		id, e.Actor, e.Action, e.Resource, detail, toNanos(e.At))
	if err != nil {
		return fmt.Errorf("add audit %s: %w", e.Action, err)
	}
	e.ID = id
	return nil
}

// ListAudit returns audit events, newest first. Q matches the actor, action
// or resource.
func (t *txn) ListAudit(ctx context.Context, q ListQuery) ([]spec.AuditEvent, int, error) {
	out := []spec.AuditEvent{}
	total, err := t.page(ctx, listing{
		what:  "list audit events",
		cols:  auditCols,
		from:  "audit",
		where: likeClause(1, "actor", "action", "resource"),
		args:  []any{likePattern(q.Q)},
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
