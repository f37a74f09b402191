package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// PurgeCacheRequest is the body of POST …/cache/purge: the gateway group
// whose gateways drop the service's cached answers, and which: the keys
// named (as X-Cache-Key shows them), or every answer when none is.
type PurgeCacheRequest struct {
	Group string   `json:"group"`
	Keys  []string `json:"keys,omitempty"`
}

// PurgeCacheResult is what a purge did.
type PurgeCacheResult struct {
	Group string `json:"group"`
	// Keys are the keys purged; empty when the whole service was.
	Keys     []string          `json:"keys"`
	Revision int64             `json:"revision"`
	Change   spec.HistoryEvent `json:"change"`
}

// maxPurgeKeys bounds the keys of one purge.
const maxPurgeKeys = 50

// PurgeCache empties the proxy-cache of a service in one gateway group.
//
// A purge must reach every gateway of the group — the embedded one and
// stand-alone ones, which learn only from the configuration feed — so it
// is a release like any other: the service's deployment in the group
// carries its purges (spec.CachePurges) and the change is committed
// through Commit, which bumps the revision and records the history. A
// purge of the whole service sets a new cache epoch, part of every key,
// so nothing stored before is found again (in memory or in Redis); a
// purge of keys adds them to the short list every gateway deletes once
// when it compiles the revision. A service that does not run in the
// group is store.ErrConflict; a running canary does not hold a purge.
func PurgeCache(ctx context.Context, tx store.Tx, actor, project, service string, req PurgeCacheRequest) (PurgeCacheResult, error) {
	var fe spec.FieldErrors
	switch {
	case req.Group == "":
		fe.Add("group", "is required")
	case !spec.ValidSlug(req.Group):
		fe.Add("group", "is not a valid gateway group name")
	}
	if len(req.Keys) > maxPurgeKeys {
		fe.Add("keys", "at most %d keys in one purge", maxPurgeKeys)
	}
	for i, k := range req.Keys {
		if !spec.ValidCacheKey(k) {
			fe.Add(fmt.Sprintf("keys[%d]", i), "is not a cache key (32 lower-case hex digits, as X-Cache-Key shows it)")
		}
	}
	if len(fe) > 0 {
		return PurgeCacheResult{}, fe
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return PurgeCacheResult{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if err := requireGroup(ctx, tx, req.Group); err != nil {
		return PurgeCacheResult{}, err
	}
	d, err := tx.GetDeployment(ctx, req.Group, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return PurgeCacheResult{}, fmt.Errorf("service %q does not run in gateway group %q; nothing is cached there: %w", svc.Name, req.Group, store.ErrConflict)
	}
	if err != nil {
		return PurgeCacheResult{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.Group, err)
	}
	p, err := tx.GetCachePurges(ctx, req.Group, svc.ID)
	if err != nil {
		return PurgeCacheResult{}, err
	}
	keys := slices.Compact(slices.Sorted(slices.Values(req.Keys)))
	detail := "the whole cache"
	if len(keys) == 0 {
		if p.Epoch, err = newEpoch(); err != nil {
			return PurgeCacheResult{}, err
		}
		p.Keys = nil // every key changed with the epoch
	} else {
		at := time.Now().UTC().Truncate(time.Millisecond)
		p.Keys = slices.DeleteFunc(p.Keys, func(k spec.PurgedCacheKey) bool { return slices.Contains(keys, k.Key) })
		for _, k := range keys {
			p.Keys = append(p.Keys, spec.PurgedCacheKey{Key: k, At: at})
		}
		if n := len(p.Keys) - spec.MaxPurgedCacheKeys; n > 0 {
			p.Keys = slices.Delete(p.Keys, 0, n) // the oldest go first
		}
		detail = "keys " + strings.Join(keys, ", ")
	}
	if err := tx.PutCachePurges(ctx, req.Group, svc.ID, &p); err != nil {
		return PurgeCacheResult{}, err
	}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: req.Group, Action: ActionCachePurge,
		Version: d.Version, Actor: actor, Detail: "purged " + detail}
	rev, err := Commit(ctx, tx, ev)
	if err != nil {
		return PurgeCacheResult{}, fmt.Errorf("purge the cache of %s in %s: %w", svc.Name, req.Group, err)
	}
	ev.Revision = rev
	if keys == nil {
		keys = []string{}
	}
	return PurgeCacheResult{Group: req.Group, Keys: keys, Revision: rev, Change: ev}, nil
}

// ActionCachePurge is the history action of a cache purge.
const ActionCachePurge = "cache.purge"

// newEpoch is a fresh cache epoch: random, so no epoch a gateway or a
// shared Redis may still hold entries of is ever used again.
func newEpoch() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cache epoch: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
