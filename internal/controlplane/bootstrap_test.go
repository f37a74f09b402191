package controlplane

import (
	"context"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/store"
)

// settingsTx is the part of a store transaction claimSecretKey uses.
type settingsTx struct {
	store.Tx
	settings map[string]string
	sealed   string
}

func (s *settingsTx) GetSetting(_ context.Context, name string) (string, error) {
	if v, ok := s.settings[name]; ok {
		return v, nil
	}
	return "", store.ErrNotFound
}

func (s *settingsTx) PutSetting(_ context.Context, name, value string) error {
	s.settings[name] = value
	return nil
}

func (s *settingsTx) SealedSample(context.Context) (string, error) {
	if s.sealed == "" {
		return "", store.ErrNotFound
	}
	return s.sealed, nil
}

// TestClaimSecretKey: the first key a store meets is its key, or the key
// its sealed secrets name when it has some from before the record; any
// other key is refused.
func TestClaimSecretKey(t *testing.T) {
	ctx := context.Background()
	mine, other := credential.NewRandomKeyring(), credential.NewRandomKeyring()
	sealedByOther, err := other.Seal("secret", "aad")
	if err != nil {
		t.Fatal(err)
	}
	sealedByMine, _ := mine.Seal("secret", "aad")
	for _, tc := range []struct {
		name     string
		recorded string // the store's record; "": none
		sealed   string // a secret in the store
		refused  bool
	}{
		{name: "a new store", recorded: ""},
		{name: "its own key", recorded: mine.ID()},
		{name: "another key", recorded: other.ID(), refused: true},
		{name: "secrets sealed by this key, no record", sealed: sealedByMine},
		{name: "secrets sealed by another key, no record", sealed: sealedByOther, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := &settingsTx{settings: map[string]string{}, sealed: tc.sealed}
			if tc.recorded != "" {
				tx.settings[store.SettingSecretKeyID] = tc.recorded
			}
			err := claimSecretKey(ctx, tx, mine.ID())
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "is not the one that sealed the store's secrets") {
					t.Errorf("claim = %v, want refused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("claim = %v", err)
			}
			if got := tx.settings[store.SettingSecretKeyID]; got != mine.ID() {
				t.Errorf("recorded key %q, want %q", got, mine.ID())
			}
		})
	}
}
