package release

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// CommitConsumers is Commit for a change of applications, credentials or
// subscriptions: what changes is the consumers every group's snapshot
// carries, so every group gets a new revision (a group where the change
// admits nobody recompiles for nothing, which is cheap; working out the
// groups concerned would be one more place to get admission wrong). The
// snapshots are compiled with the gateway's compiler first, the change is
// recorded in the audit log as release.consumers with what (e.g.
// "credential.create") and resource. Release history is per service, so a
// consumers commit leaves none. Runs inside the caller's transaction.
func CommitConsumers(ctx context.Context, tx store.Tx, actor, what, resource string) (int64, error) {
	groups, err := GroupNames(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("commit consumers: %w", err)
	}
	if len(groups) == 0 {
		return 0, nil
	}
	snap, err := tx.Snapshot(ctx, groups)
	if err != nil {
		return 0, fmt.Errorf("commit consumers: assemble snapshot: %w", err)
	}
	if err := routing.Validate(&snap); err != nil {
		return 0, err
	}
	rev, err := tx.BumpRevision(ctx, groups...)
	if err != nil {
		return 0, fmt.Errorf("commit consumers: bump revision: %w", err)
	}
	detail, _ := json.Marshal(map[string]any{"change": what, "groups": groups, "revision": rev})
	audit := spec.AuditEvent{Actor: actor, Action: "release.consumers", Resource: resource, Detail: detail}
	if err := tx.AddAudit(ctx, &audit); err != nil {
		return 0, fmt.Errorf("commit consumers: record audit: %w", err)
	}
	return rev, nil
}

// GroupNames names every gateway group.
func GroupNames(ctx context.Context, tx store.Tx) ([]string, error) {
	groups, err := store.All(func(q store.ListQuery) ([]spec.GatewayGroup, int, error) { return tx.ListGroups(ctx, q) })
	if err != nil {
		return nil, fmt.Errorf("list gateway groups: %w", err)
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	return names, nil
}
