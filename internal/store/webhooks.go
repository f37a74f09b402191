package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WebhookDelivery is one approval event waiting for (or past) delivery to
// its project's receiver.
type WebhookDelivery struct {
	ID          string
	Project     string
	Event       string
	Body        string
	Attempts    int
	NextAt      time.Time
	LastError   string
	DeliveredAt time.Time
	CreatedAt   time.Time
}

const deliveryCols = "id, project_id, event, body, attempts, next_at, last_error, delivered_at, created_at"

func scanDelivery(s scanner) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, delivered, created int64
	if err := s.Scan(&d.ID, &d.Project, &d.Event, &d.Body, &d.Attempts, &next, &d.LastError, &delivered, &created); err != nil {
		return WebhookDelivery{}, err
	}
	d.NextAt, d.DeliveredAt, d.CreatedAt = fromNanos(next), fromNanos(delivered), fromNanos(created)
	return d, nil
}

// EnqueueWebhook stores a delivery due at once; it leaves with the
// transaction that made the event, or not at all.
func (t *txn) EnqueueWebhook(ctx context.Context, d *WebhookDelivery) error {
	if err := ensureID(&d.ID); err != nil {
		return err
	}
	ts := now()
	d.CreatedAt, d.NextAt = ts, ts
	_, err := t.exec(ctx, "INSERT INTO webhook_deliveries ("+deliveryCols+") VALUES ($1, $2, $3, $4, 0, $5, '', 0, $6)",
		d.ID, d.Project, d.Event, d.Body, toNanos(ts), toNanos(ts))
	if err != nil {
		return fmt.Errorf("queue webhook %s of project %s: %w", d.Event, d.Project, err)
	}
	return nil
}

// DueWebhooks lists undelivered deliveries due by at, oldest first.
func (t *txn) DueWebhooks(ctx context.Context, at time.Time, limit int) ([]WebhookDelivery, error) {
	out := []WebhookDelivery{}
	err := t.each(ctx, "due webhooks", func(rows *sql.Rows) error {
		d, err := scanDelivery(rows)
		out = append(out, d)
		return err
	}, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE delivered_at = 0 AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
		toNanos(at), limit)
	return out, err
}

// ListWebhookDeliveries pages through a project's deliveries, newest first.
func (t *txn) ListWebhookDeliveries(ctx context.Context, project string, q ListQuery) ([]WebhookDelivery, int, error) {
	out := []WebhookDelivery{}
	total, err := t.page(ctx, listing{
		what: "list webhook deliveries", cols: deliveryCols, from: "webhook_deliveries",
		where: "project_id = $1", args: []any{project}, order: "created_at DESC, id DESC",
	}, q, func(rows *sql.Rows) error {
		d, err := scanDelivery(rows)
		out = append(out, d)
		return err
	})
	return out, total, err
}

// MarkWebhook records an attempt: delivered (deliveredAt set) or failed
// with its error and when to try again (a zero next gives up: it stays
// undelivered and is never due again).
func (t *txn) MarkWebhook(ctx context.Context, id string, deliveredAt, next time.Time, lastError string) error {
	nextAt := toNanos(next)
	if next.IsZero() {
		nextAt = 1<<62 - 1
	}
	return t.execOne(ctx, "record webhook delivery "+id, `UPDATE webhook_deliveries
		SET attempts = attempts + 1, delivered_at = $2, next_at = $3, last_error = $4 WHERE id = $1`,
		id, toNanos(deliveredAt), nextAt, lastError)
}

// PruneWebhooks removes deliveries made before cutoff.
func (t *txn) PruneWebhooks(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM webhook_deliveries WHERE created_at < $1", toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// GetProjectWebhook reads a project's receiver: its URL and sealed secret
// ("" for none).
func (t *txn) GetProjectWebhook(ctx context.Context, project string) (url, sealed string, err error) {
	err = t.queryRow(ctx, "SELECT webhook_url, webhook_secret FROM projects WHERE id = $1", project).Scan(&url, &sealed)
	if err != nil {
		return "", "", notFound(err, "webhook of project %q", project)
	}
	return url, sealed, nil
}

// SetProjectWebhook replaces a project's receiver ("" url: none).
func (t *txn) SetProjectWebhook(ctx context.Context, project, url, sealed string) error {
	return t.execOne(ctx, fmt.Sprintf("set the webhook of project %q", project),
		"UPDATE projects SET webhook_url = $2, webhook_secret = $3 WHERE id = $1", project, url, sealed)
}
