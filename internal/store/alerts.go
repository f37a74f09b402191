package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// alertRuleCols are a rule's columns, read with its service's name
// (alert_rules r JOIN services s).
const alertRuleCols = `r.id, r.project_id, r.service_id, s.name, r.group_name, r.name, r.metric, r.threshold,
	r.window_spec, r.min_requests, r.enabled, r.state, r.last_value, r.fired_at, r.resolved_at, r.created_at, r.updated_at`

const alertRuleFrom = " FROM alert_rules r JOIN services s ON s.id = r.service_id"

// alertRuleOrder puts firing rules first: what needs attention.
const alertRuleOrder = " ORDER BY CASE WHEN r.state = 'firing' THEN 0 ELSE 1 END, s.name, r.name, r.id"

func scanAlertRule(s scanner) (spec.AlertRule, error) {
	var r spec.AlertRule
	var enabled int
	var fired, resolved, created, updated int64
	if err := s.Scan(&r.ID, &r.Project, &r.Service, &r.ServiceName, &r.Group, &r.Name, &r.Metric, &r.Threshold,
		&r.Window, &r.MinRequests, &enabled, &r.State, &r.LastValue, &fired, &resolved, &created, &updated); err != nil {
		return spec.AlertRule{}, err
	}
	r.Enabled = enabled != 0
	r.FiredAt, r.ResolvedAt, r.CreatedAt, r.UpdatedAt = fromNanos(fired), fromNanos(resolved), fromNanos(created), fromNanos(updated)
	return r, nil
}

// CreateAlertRule stores a rule of service r.Service (which must be of
// r.Project: else ErrNotFound); a name the service has already is
// ErrConflict. It sets the id (when empty) and the times.
func (t *txn) CreateAlertRule(ctx context.Context, r *spec.AlertRule) error {
	if err := ensureID(&r.ID); err != nil {
		return err
	}
	ts := now()
	r.CreatedAt, r.UpdatedAt = ts, ts
	if r.State == "" {
		r.State = spec.AlertOK
	}
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM services WHERE id = $1 AND project_id = $2", r.Service, r.Project).Scan(&n); err != nil {
		return fmt.Errorf("create alert rule %q: %w", r.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("create alert rule %q: service %s of project %s: %w", r.Name, r.Service, r.Project, ErrNotFound)
	}
	_, err := t.exec(ctx, `INSERT INTO alert_rules (id, project_id, service_id, group_name, name, metric, threshold,
		window_spec, min_requests, enabled, state, last_value, fired_at, resolved_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		r.ID, r.Project, r.Service, r.Group, r.Name, r.Metric, r.Threshold, r.Window, r.MinRequests, boolInt(r.Enabled),
		r.State, r.LastValue, toNanos(r.FiredAt), toNanos(r.ResolvedAt), toNanos(ts), toNanos(ts))
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("service %s already has an alert rule named %q: %w", r.Service, r.Name, ErrConflict)
		}
		return fmt.Errorf("create alert rule %q: %w", r.Name, err)
	}
	return nil
}

// GetAlertRule reads a rule of a service by id.
func (t *txn) GetAlertRule(ctx context.Context, service, id string) (spec.AlertRule, error) {
	r, err := scanAlertRule(t.queryRow(ctx, "SELECT "+alertRuleCols+alertRuleFrom+
		" WHERE r.service_id = $1 AND r.id = $2", service, id))
	if err != nil {
		return spec.AlertRule{}, notFound(err, "alert rule %s of service %s", id, service)
	}
	return r, nil
}

// ListAlertRules lists a project's rules (service "": of every service),
// firing ones first, then by service and rule name.
func (t *txn) ListAlertRules(ctx context.Context, project, service string) ([]spec.AlertRule, error) {
	q, args := " WHERE r.project_id = $1", []any{project}
	if service != "" {
		q, args = q+" AND r.service_id = $2", append(args, service)
	}
	return t.alertRules(ctx, "list alert rules of project "+project, q, args...)
}

// ListEnabledAlertRules lists the rules the evaluator checks: every
// enabled one, of every project.
func (t *txn) ListEnabledAlertRules(ctx context.Context) ([]spec.AlertRule, error) {
	return t.alertRules(ctx, "list enabled alert rules", " WHERE r.enabled = 1")
}

func (t *txn) alertRules(ctx context.Context, what, where string, args ...any) ([]spec.AlertRule, error) {
	out := []spec.AlertRule{}
	err := t.each(ctx, what, func(rows *sql.Rows) error {
		r, err := scanAlertRule(rows)
		out = append(out, r)
		return err
	}, "SELECT "+alertRuleCols+alertRuleFrom+where+alertRuleOrder, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateAlertRule replaces rule r.ID of service r.Service: its definition
// and its state as r holds them. It sets UpdatedAt (and CreatedAt as
// stored).
func (t *txn) UpdateAlertRule(ctx context.Context, r *spec.AlertRule) error {
	ts := now()
	var created int64
	err := t.queryRow(ctx, `UPDATE alert_rules SET group_name = $3, name = $4, metric = $5, threshold = $6, window_spec = $7,
		min_requests = $8, enabled = $9, state = $10, last_value = $11, fired_at = $12, resolved_at = $13, updated_at = $14
		WHERE id = $1 AND service_id = $2 RETURNING created_at`,
		r.ID, r.Service, r.Group, r.Name, r.Metric, r.Threshold, r.Window, r.MinRequests, boolInt(r.Enabled),
		r.State, r.LastValue, toNanos(r.FiredAt), toNanos(r.ResolvedAt), toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("service %s already has an alert rule named %q: %w", r.Service, r.Name, ErrConflict)
		}
		return notFound(err, "update alert rule %s of service %s", r.ID, r.Service)
	}
	r.CreatedAt, r.UpdatedAt = fromNanos(created), ts
	return nil
}

// TransitionAlert moves an enabled rule from state `from` to `to`
// (spec.AlertFiring or spec.AlertOK), recording the value and, as `to`
// says, when it fired or resolved. A rule no longer enabled or no longer
// in `from` (changed meanwhile by someone else) is ErrConflict, so two
// evaluators never record one crossing twice; a missing one ErrNotFound.
func (t *txn) TransitionAlert(ctx context.Context, id, from, to string, value float64, at time.Time) error {
	col := "resolved_at"
	if to == spec.AlertFiring {
		col = "fired_at"
	}
	res, err := t.exec(ctx, "UPDATE alert_rules SET state = $3, last_value = $4, "+col+` = $5
		WHERE id = $1 AND state = $2 AND enabled = 1`, id, from, to, value, toNanos(at))
	if err != nil {
		return fmt.Errorf("alert rule %s %s → %s: %w", id, from, to, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("alert rule %s %s → %s: %w", id, from, to, err)
	} else if n == 1 {
		return nil
	}
	var state string
	if err := t.queryRow(ctx, "SELECT state FROM alert_rules WHERE id = $1", id).Scan(&state); err != nil {
		return notFound(err, "alert rule %s", id)
	}
	return fmt.Errorf("alert rule %s is no longer enabled in state %s: %w", id, from, ErrConflict)
}

// DeleteAlertRule removes a rule of a service with its history.
func (t *txn) DeleteAlertRule(ctx context.Context, service, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete alert rule %s of service %s", id, service),
		"DELETE FROM alert_rules WHERE service_id = $1 AND id = $2", service, id)
}

// AddAlertEvent appends a change of state to rule ev.Rule's history and
// keeps only its newest keep events.
func (t *txn) AddAlertEvent(ctx context.Context, ev *spec.AlertEvent, keep int) error {
	var seq int64
	if err := t.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM alert_events WHERE rule_id = $1", ev.Rule).Scan(&seq); err != nil {
		return fmt.Errorf("history of alert rule %s: %w", ev.Rule, err)
	}
	seq++
	_, err := t.exec(ctx, `INSERT INTO alert_events (rule_id, seq, project_id, service_id, service_name, rule_name, group_name,
		state, metric, value, threshold, window_spec, requests, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		ev.Rule, seq, ev.Project, ev.Service, ev.ServiceName, ev.RuleName, ev.Group, ev.State, ev.Metric, ev.Value,
		ev.Threshold, ev.Window, int64(min(ev.Requests, 1<<62)), toNanos(ev.At))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("history of alert rule %s: %w", ev.Rule, ErrNotFound)
		}
		return fmt.Errorf("history of alert rule %s: %w", ev.Rule, err)
	}
	if _, err := t.exec(ctx, "DELETE FROM alert_events WHERE rule_id = $1 AND seq <= $2", ev.Rule, seq-int64(keep)); err != nil {
		return fmt.Errorf("trim the history of alert rule %s: %w", ev.Rule, err)
	}
	return nil
}

// ListAlertEvents lists a project's newest changes of state (rule "":
// of every rule), newest first, at most limit.
func (t *txn) ListAlertEvents(ctx context.Context, project, rule string, limit int) ([]spec.AlertEvent, error) {
	q, args := " WHERE project_id = $1", []any{project}
	if rule != "" {
		q, args = q+" AND rule_id = $2", append(args, rule)
	}
	args = append(args, limit)
	out := []spec.AlertEvent{}
	err := t.each(ctx, "alert history of project "+project, func(rows *sql.Rows) error {
		var ev spec.AlertEvent
		var requests, at int64
		if err := rows.Scan(&ev.Rule, &ev.Project, &ev.Service, &ev.ServiceName, &ev.RuleName, &ev.Group, &ev.State,
			&ev.Metric, &ev.Value, &ev.Threshold, &ev.Window, &requests, &at); err != nil {
			return err
		}
		ev.Requests, ev.At = uint64(max(requests, 0)), fromNanos(at)
		out = append(out, ev)
		return nil
	}, `SELECT rule_id, project_id, service_id, service_name, rule_name, group_name, state, metric, value, threshold,
		window_spec, requests, at FROM alert_events`+q+fmt.Sprintf(" ORDER BY at DESC, seq DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
