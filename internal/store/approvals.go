package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// ApprovalFilter selects requests; zero fields do not filter. Projects,
// when not nil, keeps those of these projects (the projects a caller
// reviews); Requester those one user made.
type ApprovalFilter struct {
	Requester     string
	Projects      []string
	AllProjects   bool     // with Projects nil: every project (a super admin's "to review")
	ApproverRoles []string // keep requests for these approver roles; nil: any
	State         string
	Kind          string
	Subject       string
	Service       string
}

const approvalCols = `id, kind, project_id, service_id, service_name, subject, requester, approver_role,
	state, comment, detail, created_at, updated_at`

func scanApproval(s scanner) (spec.Approval, error) {
	var a spec.Approval
	var detail string
	var created, updated int64
	if err := s.Scan(&a.ID, &a.Kind, &a.Project, &a.Service, &a.ServiceName, &a.Subject, &a.Requester,
		&a.ApproverRole, &a.State, &a.Comment, &detail, &created, &updated); err != nil {
		return spec.Approval{}, err
	}
	var c jsonCodec
	c.decode("detail", detail, &a.Detail)
	a.CreatedAt, a.UpdatedAt = fromNanos(created), fromNanos(updated)
	return a, c.err
}

// CreateApproval stores a request in state a.State with its first history
// line (action "requested", by the requester).
func (t *txn) CreateApproval(ctx context.Context, a *spec.Approval) error {
	if err := ensureID(&a.ID); err != nil {
		return err
	}
	ts := now()
	a.CreatedAt, a.UpdatedAt = ts, ts
	var c jsonCodec
	detail := c.encode("detail", a.Detail)
	if c.err != nil {
		return c.err
	}
	_, err := t.exec(ctx, "INSERT INTO approvals ("+approvalCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.Kind, a.Project, a.Service, a.ServiceName, a.Subject, a.Requester, a.ApproverRole,
		a.State, a.Comment, detail, toNanos(ts), toNanos(ts))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("request %s: project %s: %w", a.Kind, a.Project, ErrNotFound)
		}
		return fmt.Errorf("request %s of service %s: %w", a.Kind, a.Service, err)
	}
	ev := spec.ApprovalEvent{At: ts, Actor: a.Requester, Action: "requested", Comment: a.Comment}
	if err := t.AddApprovalEvent(ctx, a.ID, &ev); err != nil {
		return err
	}
	a.History = []spec.ApprovalEvent{ev}
	return nil
}

// GetApproval reads a request with its history.
func (t *txn) GetApproval(ctx context.Context, id string) (spec.Approval, error) {
	a, err := scanApproval(t.queryRow(ctx, "SELECT "+approvalCols+" FROM approvals WHERE id = $1", id))
	if err != nil {
		return spec.Approval{}, notFound(err, "approval %s", id)
	}
	a.History = []spec.ApprovalEvent{}
	err = t.each(ctx, "history of approval "+id, func(rows *sql.Rows) error {
		var ev spec.ApprovalEvent
		var at int64
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, &ev.Comment); err != nil {
			return err
		}
		ev.At = fromNanos(at)
		a.History = append(a.History, ev)
		return nil
	}, "SELECT at, actor, action, comment FROM approval_events WHERE approval_id = $1 ORDER BY seq", id)
	return a, err
}

// ListApprovals pages through requests, newest first, without history.
func (t *txn) ListApprovals(ctx context.Context, f ApprovalFilter, q ListQuery) ([]spec.Approval, int, error) {
	where, args := "1 = 1", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Requester != "" {
		add("requester = $%d", f.Requester)
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if f.Service != "" {
		add("service_id = $%d", f.Service)
	}
	if !f.AllProjects && f.Projects != nil {
		where += " AND project_id IN (" + t.placeholders(&args, f.Projects) + ")"
	}
	if f.ApproverRoles != nil {
		where += " AND approver_role IN (" + t.placeholders(&args, f.ApproverRoles) + ")"
	}
	out := []spec.Approval{}
	total, err := t.page(ctx, listing{
		what: "list approvals", cols: approvalCols, from: "approvals",
		where: where, args: args, order: "created_at DESC, id DESC",
	}, q, func(rows *sql.Rows) error {
		a, err := scanApproval(rows)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// placeholders appends vs to args and returns their placeholders; an
// empty vs matches nothing.
func (t *txn) placeholders(args *[]any, vs []string) string {
	if len(vs) == 0 {
		return "NULL"
	}
	s := ""
	for i, v := range vs {
		*args = append(*args, v)
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", len(*args))
	}
	return s
}

// DecideApproval moves a pending request to state with a history line; a
// request no longer pending is ErrConflict (two approvers deciding at
// once: the second one loses).
func (t *txn) DecideApproval(ctx context.Context, id, state string, ev *spec.ApprovalEvent) error {
	ts := now()
	res, err := t.exec(ctx, "UPDATE approvals SET state = $2, updated_at = $3 WHERE id = $1 AND state = $4",
		id, state, toNanos(ts), spec.ApprovalPending)
	if err != nil {
		return fmt.Errorf("decide approval %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := t.GetApproval(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("approval %s is no longer pending: %w", id, ErrConflict)
	}
	ev.At = ts
	return t.AddApprovalEvent(ctx, id, ev)
}

// AddApprovalEvent appends a line to a request's history.
func (t *txn) AddApprovalEvent(ctx context.Context, id string, ev *spec.ApprovalEvent) error {
	if ev.At.IsZero() {
		ev.At = now()
	}
	var seq int
	if err := t.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM approval_events WHERE approval_id = $1", id).Scan(&seq); err != nil {
		return fmt.Errorf("history of approval %s: %w", id, err)
	}
	_, err := t.exec(ctx, "INSERT INTO approval_events (approval_id, seq, at, actor, action, comment) VALUES ($1, $2, $3, $4, $5, $6)",
		id, seq+1, toNanos(ev.At), ev.Actor, ev.Action, ev.Comment)
	if err != nil {
		return fmt.Errorf("history of approval %s: %w", id, err)
	}
	return nil
}
