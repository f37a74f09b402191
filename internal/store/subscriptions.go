package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// SubscriptionFilter selects subscriptions in a list; zero fields do not
// filter. Owner keeps those of the user's own applications.
type SubscriptionFilter struct {
	ApplicationID string
	ServiceID     string
	Owner         string
	State         string
	Project       string // the service's project
}

const subscriptionCols = "id, application_id, service_id, project_id, state, created_at, plan_id, approval_id, updated_at"

func scanSubscription(s scanner) (spec.Subscription, error) {
	var sub spec.Subscription
	var created, updated int64
	if err := s.Scan(&sub.ID, &sub.ApplicationID, &sub.ServiceID, &sub.ProjectID, &sub.State, &created,
		&sub.Plan, &sub.Approval, &updated); err != nil {
		return spec.Subscription{}, err
	}
	sub.CreatedAt, sub.UpdatedAt = fromNanos(created), fromNanos(updated)
	return sub, nil
}

// CreateSubscription stores s; a second subscription of the application to
// the service is ErrConflict, a missing application or service ErrNotFound.
func (t *txn) CreateSubscription(ctx context.Context, s *spec.Subscription) error {
	if err := ensureID(&s.ID); err != nil {
		return err
	}
	ts := now()
	s.CreatedAt, s.UpdatedAt = ts, ts
	_, err := t.exec(ctx, "INSERT INTO subscriptions ("+subscriptionCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		s.ID, s.ApplicationID, s.ServiceID, s.ProjectID, s.State, toNanos(ts), s.Plan, s.Approval, toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("application %s already subscribes to service %s: %w", s.ApplicationID, s.ServiceID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("subscribe application %s to service %s: %w", s.ApplicationID, s.ServiceID, ErrNotFound)
		}
		return fmt.Errorf("subscribe application %s to service %s: %w", s.ApplicationID, s.ServiceID, err)
	}
	return nil
}

func (t *txn) GetSubscription(ctx context.Context, id string) (spec.Subscription, error) {
	s, err := scanSubscription(t.queryRow(ctx, "SELECT "+subscriptionCols+" FROM subscriptions WHERE id = $1", id))
	if err != nil {
		return spec.Subscription{}, notFound(err, "subscription %s", id)
	}
	return s, nil
}

// ListSubscriptions pages through subscriptions in creation order.
func (t *txn) ListSubscriptions(ctx context.Context, f SubscriptionFilter, q ListQuery) ([]spec.Subscription, int, error) {
	where, args := "1 = 1", []any{}
	if f.ApplicationID != "" {
		args = append(args, f.ApplicationID)
		where += fmt.Sprintf(" AND application_id = $%d", len(args))
	}
	if f.ServiceID != "" {
		args = append(args, f.ServiceID)
		where += fmt.Sprintf(" AND service_id = $%d", len(args))
	}
	if f.State != "" {
		args = append(args, f.State)
		where += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if f.Project != "" {
		args = append(args, f.Project)
		where += fmt.Sprintf(" AND project_id = $%d", len(args))
	}
	if f.Owner != "" {
		args = append(args, f.Owner)
		where += fmt.Sprintf(" AND application_id IN (SELECT id FROM applications WHERE owner_id = $%d)", len(args))
	}
	out := []spec.Subscription{}
	total, err := t.page(ctx, listing{
		what: "list subscriptions", cols: subscriptionCols, from: "subscriptions",
		where: where, args: args, order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		s, err := scanSubscription(rows)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// GetSubscriptionOf reads an application's subscription to a service.
func (t *txn) GetSubscriptionOf(ctx context.Context, app, service string) (spec.Subscription, error) {
	s, err := scanSubscription(t.queryRow(ctx, "SELECT "+subscriptionCols+" FROM subscriptions WHERE application_id = $1 AND service_id = $2", app, service))
	if err != nil {
		return spec.Subscription{}, notFound(err, "subscription of application %s to service %s", app, service)
	}
	return s, nil
}

// UpdateSubscription replaces a subscription's state, plan and approval.
func (t *txn) UpdateSubscription(ctx context.Context, s *spec.Subscription) error {
	ts := now()
	s.UpdatedAt = ts
	return t.execOne(ctx, "update subscription "+s.ID,
		"UPDATE subscriptions SET state = $2, plan_id = $3, approval_id = $4, updated_at = $5 WHERE id = $1",
		s.ID, s.State, s.Plan, s.Approval, toNanos(ts))
}

// DeleteSubscription ends a subscription (unsubscribing needs no approval).
func (t *txn) DeleteSubscription(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete subscription "+id, "DELETE FROM subscriptions WHERE id = $1", id)
}
