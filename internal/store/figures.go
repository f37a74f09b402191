package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// FigureReport is one report of a group's traffic figures as a control
// plane received it: a stand-alone gateway's heartbeat, or what the
// control plane's embedded gateway counted since its last report. Body is
// the figures' JSON, opaque to the store. Replica names the control plane
// process that wrote the row, which counted it already and skips it when
// it follows the log.
type FigureReport struct {
	ID         int64 // set by AddFigureReport
	Group      string
	Replica    string
	ReportedAt time.Time
	Body       string
}

// AddFigureReport appends a report to the figures log and sets its ID.
func (t *txn) AddFigureReport(ctx context.Context, r *FigureReport) error {
	id, err := t.nextID(ctx, "gateway_figures")
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO gateway_figures (id, group_name, replica, reported_at, body) VALUES ($1, $2, $3, $4, $5)`,
		id, r.Group, r.Replica, toNanos(r.ReportedAt), r.Body)
	if err != nil {
		return fmt.Errorf("figure report of group %s: %w", r.Group, err)
	}
	r.ID = id
	return nil
}

// FigureReportsAfter returns up to limit reports with ids above after,
// reported at or after since, in id order.
func (t *txn) FigureReportsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]FigureReport, error) {
	var out []FigureReport
	err := t.each(ctx, "figure reports", func(rows *sql.Rows) error {
		var r FigureReport
		var at int64
		if err := rows.Scan(&r.ID, &r.Group, &r.Replica, &at, &r.Body); err != nil {
			return err
		}
		r.ReportedAt = fromNanos(at)
		out = append(out, r)
		return nil
	}, `SELECT id, group_name, replica, reported_at, body FROM gateway_figures
		WHERE id > $1 AND reported_at >= $2 ORDER BY id LIMIT $3`, after, toNanos(since), limit)
	return out, err
}

// PruneFigureReports removes the reports made before cutoff and answers
// how many.
func (t *txn) PruneFigureReports(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM gateway_figures WHERE reported_at < $1", toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune figure reports: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune figure reports: rows affected: %w", err)
	}
	return int(n), nil
}

// DeployedAmong answers which of ids are services deployed in group.
func (t *txn) DeployedAmong(ctx context.Context, group string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for chunk := range slices.Chunk(ids, bindChunk) {
		err := t.each(ctx, "deployed services of group "+group, func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
			return nil
		}, "SELECT service_id FROM deployments WHERE group_name = $1 AND service_id IN ("+placeholders(2, len(chunk))+")", stringArgs(group, chunk)...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Setting names of store_settings.
const (
	// SettingSecretKeyID names the secret key that seals the store's
	// secrets (credential.Keyring.ID).
	SettingSecretKeyID = "secret_key_id"
)

// GetSetting returns a store setting; unset: ErrNotFound.
func (t *txn) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := t.queryRow(ctx, "SELECT value FROM store_settings WHERE name = $1", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store setting %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	return v, nil
}

// SealedSample returns one secret sealed in the store (a credential's
// secret, a data source's password, a certificate's key or a registry's
// credentials), to tell which key sealed it;
// none: ErrNotFound.
func (t *txn) SealedSample(ctx context.Context) (string, error) {
	var v string
	err := t.queryRow(ctx, `SELECT sealed FROM (
		SELECT secret_sealed AS sealed FROM credentials WHERE secret_sealed <> ''
		UNION ALL SELECT sealed FROM data_sources WHERE sealed <> ''
		UNION ALL SELECT sealed FROM certificates WHERE sealed <> ''
		UNION ALL SELECT sealed FROM registries WHERE sealed <> '') AS s LIMIT 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("a sealed secret: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("a sealed secret: %w", err)
	}
	return v, nil
}

// PutSetting sets a store setting.
func (t *txn) PutSetting(ctx context.Context, name, value string) error {
	_, err := t.exec(ctx, `INSERT INTO store_settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("store setting %s: %w", name, err)
	}
	return nil
}
