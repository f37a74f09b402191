package release

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Commit is the one way a change reaches gateways (DESIGN.md rule 6): it
// compiles the group's new snapshot with the gateway's own compiler, bumps
// the group's revision and records the release history and audit entry. It
// runs inside the caller's transaction, so a refused change leaves nothing.
func Commit(ctx context.Context, tx store.Tx, ev spec.HistoryEvent) (int64, error) {
	snap, err := tx.Snapshot(ctx, []string{ev.Group})
	if err != nil {
		return 0, fmt.Errorf("assemble snapshot of %s: %w", ev.Group, err)
	}
	if err := routing.Validate(&snap); err != nil {
		return 0, err
	}
	rev, err := tx.BumpRevision(ctx, ev.Group)
	if err != nil {
		return 0, fmt.Errorf("bump revision of %s: %w", ev.Group, err)
	}
	ev.Revision = rev
	if err := tx.AddHistory(ctx, &ev); err != nil {
		return 0, fmt.Errorf("record history: %w", err)
	}
	detail, _ := json.Marshal(map[string]any{
		"group": ev.Group, "version": ev.Version, "from_version": ev.FromVersion, "revision": rev,
	})
	audit := spec.AuditEvent{
		Actor:    ev.Actor,
		Action:   "release." + ev.Action,
		Resource: "/projects/" + ev.ProjectID + "/services/" + ev.ServiceID,
		Detail:   detail,
	}
	if err := tx.AddAudit(ctx, &audit); err != nil {
		return 0, fmt.Errorf("record audit: %w", err)
	}
	return rev, nil
}
