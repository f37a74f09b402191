package controlplane

import (
	"context"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// storeSource feeds the embedded gateway straight from the store: the same
// gateway.Source a stand-alone gateway's feed client satisfies, without the
// HTTP hop, deltas included.
type storeSource struct {
	st   store.Store
	keys *credential.Keyring // opens consumer secrets (secrets.go)
	// consumers are the digests of the consumers last handed over, by
	// group; Next is called by one gateway loop at a time.
	consumers map[string]string
}

func (s *storeSource) Next(ctx context.Context, groups []string, after int64) (spec.SnapshotUpdate, error) {
	if _, err := s.st.WaitRevision(ctx, groups, after); err != nil {
		return spec.SnapshotUpdate{}, err
	}
	// A read view: assembling an update for every gateway wake-up must not
	// hold the write lock that admin actions and publishes queue for. It
	// reads the revision WaitRevision just saw, or a later one.
	// In process, the gateway restarts with its control plane: no epoch.
	up, digests, err := updateFor(ctx, s.st, groups, after, s.consumers, "")
	if err != nil {
		return spec.SnapshotUpdate{}, err
	}
	s.consumers = digests
	feed.OpenSecrets(up, s.keys)
	return up, nil
}
