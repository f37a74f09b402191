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
}

const subscriptionCols = "id, application_id, service_id, project_id, state, created_at"

func scanSubscription(s scanner) (spec.Subscription, error) {
	var sub spec.Subscription
	var created int64
	if err := s.Scan(&sub.ID, &sub.ApplicationID, &sub.ServiceID, &sub.ProjectID, &sub.State, &created); err != nil {
		return spec.Subscription{}, err
	}
	sub.CreatedAt = fromNanos(created)
	return sub, nil
}

// CreateSubscription stores s; a second subscription of the application to
// the service is ErrConflict, a missing application or service ErrNotFound.
func (t *txn) CreateSubscription(ctx context.Context, s *spec.Subscription) error {
	if err := ensureID(&s.ID); err != nil {
		return err
	}
	ts := now()
	s.CreatedAt = ts
	_, err := t.exec(ctx, "INSERT INTO subscriptions ("+subscriptionCols+") VALUES ($1, $2, $3, $4, $5, $6)",
		s.ID, s.ApplicationID, s.ServiceID, s.ProjectID, s.State, toNanos(ts))
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

// DeleteSubscription ends a subscription (unsubscribing needs no approval).
func (t *txn) DeleteSubscription(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete subscription "+id, "DELETE FROM subscriptions WHERE id = $1", id)
}
