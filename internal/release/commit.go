package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Commit is the one way a change reaches gateways: it
// refuses routes that collide with another service's (a *ConflictError,
// 409), compiles the group's new snapshot with the gateway's own compiler,
// bumps the group's revision and records the release history and audit
// entry. It runs inside the caller's transaction, so a refused change
// leaves nothing.
func Commit(ctx context.Context, tx store.Tx, ev spec.HistoryEvent) (int64, error) {
	return commitGroup(ctx, tx, ev.Group, ev.ServiceID, []spec.HistoryEvent{ev})
}

// commitGroup is Commit for one or more events of one group: one snapshot
// check, one new revision, a history and audit entry per event. focus is
// the service whose route collisions are reported ("" for all).
func commitGroup(ctx context.Context, tx store.Tx, group, focus string, evs []spec.HistoryEvent) (int64, error) {
	if err := refuseUnderCanary(ctx, tx, group, evs); err != nil {
		return 0, err
	}
	snap, err := tx.Snapshot(ctx, []string{group})
	if err != nil {
		return 0, fmt.Errorf("assemble snapshot of %s: %w", group, err)
	}
	if err := snapshotConflicts(&snap, focus); err != nil {
		return 0, err
	}
	if err := routing.Validate(&snap); err != nil {
		return 0, err
	}
	rev, err := tx.BumpRevision(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("bump revision of %s: %w", group, err)
	}
	for _, ev := range evs {
		ev.Group, ev.Revision = group, rev
		if err := tx.AddHistory(ctx, &ev); err != nil {
			return 0, fmt.Errorf("record history: %w", err)
		}
		d := map[string]any{
			"group": ev.Group, "version": ev.Version, "from_version": ev.FromVersion, "revision": rev,
		}
		if ev.Detail != "" {
			d["detail"] = ev.Detail
		}
		detail, _ := json.Marshal(d)
		audit := spec.AuditEvent{
			Actor:    ev.Actor,
			Action:   "release." + ev.Action,
			Resource: "/projects/" + ev.ProjectID + "/services/" + ev.ServiceID,
			Detail:   detail,
		}
		if err := tx.AddAudit(ctx, &audit); err != nil {
			return 0, fmt.Errorf("record audit: %w", err)
		}
	}
	return rev, nil
}

// refuseUnderCanary keeps a running canary meaningful: while one splits a
// service's traffic in the group, only the canary's own actions may change
// what the service runs there.
func refuseUnderCanary(ctx context.Context, tx store.Tx, group string, evs []spec.HistoryEvent) error {
	for _, ev := range evs {
		if ev.ServiceID == "" || strings.HasPrefix(ev.Action, "canary.") {
			continue
		}
		c, err := tx.RunningCanary(ctx, group, ev.ServiceID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("running canary in %s: %w", group, err)
		}
		return fmt.Errorf("canary %s is running for this service in group %q (%d%% to the target); promote or cancel it before a %s: %w",
			c.ID, group, c.Weight, ev.Action, store.ErrConflict)
	}
	return nil
}
