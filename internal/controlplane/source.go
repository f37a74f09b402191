package controlplane

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// storeSource feeds the embedded gateway straight from the store: the same
// gateway.Source a stand-alone gateway's feed client satisfies, without the
// HTTP hop.
type storeSource struct {
	st   store.Store
	keys *credential.Keyring // opens consumer secrets (secrets.go)
}

func (s storeSource) Next(ctx context.Context, groups []string, after int64) (*spec.Snapshot, error) {
	if _, err := s.st.WaitRevision(ctx, groups, after); err != nil {
		return nil, err
	}
	// A read view: assembling a snapshot for every gateway wake-up must not
	// hold the write lock that admin actions and publishes queue for. It
	// reads the revision WaitRevision just saw, or a later one.
	var snap spec.Snapshot
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		snap, err = tx.Snapshot(ctx, groups)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot of %v: %w", groups, err)
	}
	feed.OpenSecrets(&snap, s.keys)
	return &snap, nil
}
