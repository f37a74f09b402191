package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const historyCols = "id, project_id, service_id, group_name, action, version, from_version, actor, detail, revision, at"

func scanHistory(s scanner) (spec.HistoryEvent, error) {
	var e spec.HistoryEvent
	var at int64
	if err := s.Scan(&e.ID, &e.ProjectID, &e.ServiceID, &e.Group, &e.Action, &e.Version, &e.FromVersion,
		&e.Actor, &e.Detail, &e.Revision, &at); err != nil {
		return spec.HistoryEvent{}, err
	}
	e.At = fromNanos(at)
	return e, nil
}

// AddHistory appends a release event; it sets ID, and At when zero.
func (t *txn) AddHistory(ctx context.Context, e *spec.HistoryEvent) error {
	id, err := t.nextID(ctx, "history")
	if err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = now()
	}
	_, err = t.exec(ctx, "INSERT INTO history ("+historyCols+") VALUES ("+placeholders(1, 11)+")",
		id, e.ProjectID, e.ServiceID, e.Group, e.Action, e.Version, e.FromVersion, e.Actor, e.Detail,
		e.Revision, toNanos(e.At))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("add history of service %s: %w", e.ServiceID, ErrNotFound)
		}
		return fmt.Errorf("add history of service %s: %w", e.ServiceID, err)
	}
	e.ID = id
	return nil
}

// ListHistory returns a service's release events, newest first. Q matches
// the group, action or version.
func (t *txn) ListHistory(ctx context.Context, service string, q ListQuery) ([]spec.HistoryEvent, int, error) {
	return t.historyPage(ctx, fmt.Sprintf("list history of service %s", service),
		"service_id = $1 AND "+likeClause(2, "group_name", "action", "version"), service, q)
}

// historyPage is one page of the events where says ($1 is key, $2 the
// pattern of q.Q), newest first.
func (t *txn) historyPage(ctx context.Context, what, where, key string, q ListQuery) ([]spec.HistoryEvent, int, error) {
	out := []spec.HistoryEvent{}
	total, err := t.page(ctx, listing{
		what: what, cols: historyCols, from: "history",
		where: where, args: []any{key, likePattern(q.Q)}, order: "id DESC",
	}, q, func(rows *sql.Rows) error {
		e, err := scanHistory(rows)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
