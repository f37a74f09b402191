package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
)

// auditRetentionCheck is how often the housekeeping asks whether the
// audit log is due for a prune; adminapi.PruneAudit itself keeps prunes
// at least an hour apart, across restarts and control planes, so a check
// that finds it not due costs one read.
const auditRetentionCheck = 10 * time.Minute

// retainAudit prunes the audit log past cfg.AuditRetention now and then
// whenever it is due, until ctx ends. It runs in the housekeeping, on one
// control plane of the store at a time (store.Lead).
func retainAudit(ctx context.Context, cfg adminapi.Config, log *slog.Logger) {
	cfg.Logger = log
	tick := time.NewTicker(auditRetentionCheck)
	defer tick.Stop()
	for {
		if _, _, err := adminapi.PruneAudit(ctx, cfg); err != nil && ctx.Err() == nil {
			log.Warn("could not prune the audit log", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkAuditRetention refuses a negative retention and one under
// adminapi.MinAuditRetention (a typo such as 30m for 30 days would
// otherwise empty the log within the hour).
func checkAuditRetention(d time.Duration) error {
	if d != 0 && d < adminapi.MinAuditRetention {
		return fmt.Errorf("--audit-retention %s: keep audit events at least %s, or 0 to keep them forever", d, adminapi.MinAuditRetention)
	}
	return nil
}
