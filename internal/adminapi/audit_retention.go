package adminapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Retention of the audit log (Config.AuditRetention): the control plane's
// housekeeping calls PruneAudit on one control plane at a time
// (store.Lead); the time of the last prune is kept in the store, so that
// neither a restart nor another control plane taking the job over prunes
// twice within AuditPruneEvery.

const (
	// AuditPruneEvery is the least time between two prunes of the log.
	AuditPruneEvery = time.Hour
	// MinAuditRetention is the shortest retention accepted: a log kept
	// less than a day audits nothing, and a typo must not wipe it.
	MinAuditRetention = 24 * time.Hour
	// AuditPruneActor is the actor of the "audit.prune" events.
	AuditPruneActor = "audit-retention"
	// settingAuditPrunedAt is the store setting with the time of the last
	// prune (RFC 3339).
	settingAuditPrunedAt = "audit_pruned_at"
)

// PruneAudit deletes the audit events older than cfg.AuditRetention at
// cfg.Now, unless the log was pruned less than AuditPruneEvery ago. In
// one transaction it deletes them, notes the time and, when any went,
// writes one "audit.prune" event (a system event: super_admins see it)
// with their count. It answers how many went and whether it ran; with a
// retention of 0 (keep forever) it never runs.
func PruneAudit(ctx context.Context, cfg Config) (pruned int, ran bool, err error) {
	if cfg.AuditRetention <= 0 {
		return 0, false, nil
	}
	now := time.Now().UTC()
	if cfg.Now != nil {
		now = cfg.Now().UTC()
	}
	// The common case, not due, is answered without the write lock.
	var due bool
	err = cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		due, err = pruneDue(ctx, tx, now)
		return err
	})
	if err != nil || !due {
		return 0, false, err
	}
	cutoff := now.Add(-cfg.AuditRetention)
	err = cfg.Store.Tx(ctx, func(tx store.Tx) error {
		// Checked again under the write lock: another control plane
		// may have pruned since (a job's lock moved between them).
		var err error
		if due, err = pruneDue(ctx, tx, now); err != nil || !due {
			return err
		}
		if pruned, err = tx.PruneAudit(ctx, cutoff); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, settingAuditPrunedAt, now.Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("note the audit prune: %w", err)
		}
		if pruned == 0 {
			return nil
		}
		detail, err := maskedJSON(map[string]any{"count": pruned, "before": cutoff, "retention": cfg.AuditRetention.String()})
		if err != nil {
			return fmt.Errorf("audit prune: %w", err)
		}
		return tx.AddAudit(ctx, &spec.AuditEvent{Actor: AuditPruneActor, Action: "audit.prune", Resource: "/audit-events",
			Detail: detail, At: now})
	})
	if err != nil {
		return 0, false, fmt.Errorf("prune the audit log before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	if !due {
		return 0, false, nil
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if pruned > 0 {
		log.Info("audit log pruned", "events", pruned, "before", cutoff, "retention", cfg.AuditRetention)
	} else {
		log.Debug("audit log pruned: nothing was old enough", "before", cutoff, "retention", cfg.AuditRetention)
	}
	return pruned, true, nil
}

// pruneDue says whether the last prune, as the store notes it, is at
// least AuditPruneEvery before now. A note a little in the future
// (another control plane's clock ahead of this one's) waits until it is
// past; one that does not parse, or is further ahead than
// AuditPruneEvery, is no note.
func pruneDue(ctx context.Context, tx store.Tx, now time.Time) (bool, error) {
	v, err := tx.GetSetting(ctx, settingAuditPrunedAt)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("when was the audit log pruned: %w", err)
	}
	last, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || last.After(now.Add(AuditPruneEvery)) {
		return true, nil // no note, or one no clock could have written
	}
	return !now.Before(last.Add(AuditPruneEvery)), nil
}
