package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// maxDeltaServices bounds a delta: past it the whole snapshot is sent, as
// cheap to compile at that point and simpler to get right.
const maxDeltaServices = 1000

// updateFor assembles, in one read view, what a gateway serving revision
// after of groups needs to reach their current revision: a delta when the
// revisions since after changed only some services and the gateway's
// consumers (digests by group, from the last update it was handed) are
// still the groups', else the whole snapshot (always for after 0). It
// also returns the consumers' digests the gateway holds once it applied
// the update. Secrets stay sealed.
//
// epoch starts every digest. The feed's is drawn anew by each control
// plane process, so a gateway is sent a whole snapshot first after every
// control-plane start: a store restored from a backup reuses revision
// numbers for other changes, and a gateway at such a revision must not be
// sent a delta on top of what it holds from the history that was lost.
func updateFor(ctx context.Context, st store.Store, groups []string, after int64, consumers map[string]string, epoch string) (spec.SnapshotUpdate, map[string]string, error) {
	var up spec.SnapshotUpdate
	var digests map[string]string
	err := st.View(ctx, func(tx store.Tx) error {
		if after > 0 {
			d, dg, err := deltaFor(ctx, tx, groups, after, consumers, epoch)
			if err != nil || d != nil {
				up, digests = spec.SnapshotUpdate{Delta: d}, dg
				return err
			}
		}
		snap, err := tx.Snapshot(ctx, groups)
		if err != nil {
			return err
		}
		digests = make(map[string]string, len(snap.Groups))
		for _, g := range snap.Groups {
			d, err := consumersDigest(g.Consumers)
			if err != nil {
				return err
			}
			digests[g.Group.Name] = epoch + d
		}
		up = spec.SnapshotUpdate{Snapshot: &snap}
		return nil
	})
	if err != nil {
		return spec.SnapshotUpdate{}, nil, fmt.Errorf("configuration of %v after revision %d: %w", groups, after, err)
	}
	return up, digests, nil
}

// deltaFor is the delta from after, or nil when only the whole snapshot
// will do.
func deltaFor(ctx context.Context, tx store.Tx, groups []string, after int64, consumers map[string]string, epoch string) (*spec.SnapshotDelta, map[string]string, error) {
	d := &spec.SnapshotDelta{Base: after, Groups: []spec.GroupDelta{}}
	digests := make(map[string]string, len(groups))
	for _, name := range groups {
		if _, seen := digests[name]; seen {
			continue
		}
		g, err := tx.GetGroup(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // as Snapshot: a group created later joins then
		}
		if err != nil {
			return nil, nil, err
		}
		d.Revision = max(d.Revision, g.Revision)
		digests[name] = consumers[name]
		if g.Revision <= after {
			continue
		}
		ids, whole, err := tx.ChangedSince(ctx, name, after, maxDeltaServices)
		if err != nil || whole {
			return nil, nil, err
		}
		part, err := tx.SnapshotServices(ctx, name, ids)
		if err != nil {
			return nil, nil, err
		}
		digest, err := consumersDigest(part.Consumers)
		if err != nil || epoch+digest != consumers[name] {
			return nil, nil, err
		}
		gd := spec.GroupDelta{Group: g, Services: part.Services, DataSources: part.DataSources}
		for _, id := range ids {
			if !slices.ContainsFunc(part.Services, func(ds spec.DeployedService) bool { return ds.Service.ID == id }) {
				gd.Removed = append(gd.Removed, id)
			}
		}
		d.Groups = append(d.Groups, gd)
	}
	if d.Revision <= after {
		return nil, nil, nil // nothing new, or the store is behind the gateway: a reset
	}
	return d, digests, nil
}

// consumersDigest identifies a group's consumers as the store assembles
// them (secrets sealed), so a gateway is sent deltas only while they are
// the consumers it holds.
func consumersDigest(list []spec.Consumer) (string, error) {
	b, err := json.Marshal(list)
	if err != nil {
		return "", fmt.Errorf("consumers digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}
