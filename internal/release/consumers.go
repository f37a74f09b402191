package release

import (
	"context"
	"fmt"

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
	return Apply(ctx, tx, Change{Groups: groups,
		Audit: &AuditNote{Actor: actor, Action: "release.consumers", Resource: resource, Detail: map[string]any{"change": what}}})
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
