package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// commitGuard is the store every admin API test runs on: a transaction
// that changes what a gateway group's snapshot carries (routes, upstreams,
// consumers, data sources, a group's prefix) without a revision bump —
// and release history, which only release.Apply writes — fails the test. So every store write
// that is visible to gateways, in every admin test, is proved to go
// through the one commit function.
type commitGuard struct {
	store.Store
	t testing.TB
}

func (g commitGuard) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return g.Store.Tx(ctx, func(tx store.Tx) error {
		before, err := gatewayView(ctx, tx)
		if err != nil {
			return err
		}
		gt := &bumpSpy{Tx: tx}
		if err := fn(gt); err != nil {
			return err
		}
		if gt.bumped && gt.released {
			return nil
		}
		after, err := gatewayView(ctx, tx)
		if err != nil {
			return err
		}
		for name, view := range after {
			// A deleted group is gone for its gateways with nothing to
			// commit; every other change must come with a revision.
			if before[name] != view {
				g.t.Errorf("a transaction changed what gateways of group %q see without a commit:\nbefore %s\nafter  %s", name, before[name], view)
				return fmt.Errorf("snapshot of group %q changed outside a commit", name)
			}
		}
		return nil
	})
}

// bumpSpy notes that a transaction bumped a revision and recorded a
// release.* audit entry: both together are what release.Apply, and only it,
// writes.
type bumpSpy struct {
	store.Tx
	bumped, released bool
}

func (s *bumpSpy) AddAudit(ctx context.Context, e *spec.AuditEvent) error {
	s.released = s.released || strings.HasPrefix(e.Action, "release.")
	return s.Tx.AddAudit(ctx, e)
}

func (s *bumpSpy) BumpRevision(ctx context.Context, changes ...store.RevisionChange) (int64, error) {
	s.bumped = true
	return s.Tx.BumpRevision(ctx, changes...)
}

// gatewayView is each group's snapshot as its gateways see it, revisions
// and bookkeeping (timestamps, descriptions) left out.
func gatewayView(ctx context.Context, tx store.Tx) (map[string]string, error) {
	groups, err := store.All(func(q store.ListQuery) ([]spec.GatewayGroup, int, error) { return tx.ListGroups(ctx, q) })
	if err != nil {
		return nil, err
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	snap, err := tx.Snapshot(ctx, names)
	if err != nil {
		return nil, err
	}
	views := make(map[string]string, len(snap.Groups))
	for i := range snap.Groups {
		gs := &snap.Groups[i]
		gs.Group.Revision, gs.Group.Description = 0, ""
		gs.Group.CreatedAt, gs.Group.UpdatedAt = time.Time{}, time.Time{}
		for j := range gs.DataSources {
			gs.DataSources[j].CreatedAt, gs.DataSources[j].UpdatedAt = time.Time{}, time.Time{}
		}
		b, err := json.Marshal(gs)
		if err != nil {
			return nil, err
		}
		views[gs.Group.Name] = string(b)
	}
	return views, nil
}
