package feed

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func snapAt(rev int64) *spec.Snapshot {
	return &spec.Snapshot{Revision: rev, Groups: []spec.GroupSnapshot{{Group: spec.GatewayGroup{Name: "g", Revision: rev}}}}
}

// TestCacheKeepsNewestWhole: Load answers the newest whole snapshot; a
// file cut short, damaged or renamed is passed over, and Save keeps only
// the newest Keep files.
func TestCacheKeepsNewestWhole(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Keep: 3}
	if _, err := c.Load(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of nothing: %v, want fs.ErrNotExist", err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for rev := int64(1); rev <= 5; rev++ {
		if err := c.Save(snapAt(rev), now.Add(time.Duration(rev)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	revs, _ := c.revisions()
	if len(revs) != 3 || revs[0] != 5 || revs[2] != 3 {
		t.Fatalf("kept %v, want [5 4 3]", revs)
	}
	got, err := c.Load()
	if err != nil || got.Snapshot.Revision != 5 || !got.SavedAt.Equal(now.Add(5*time.Second)) {
		t.Fatalf("Load = %+v, %v; want revision 5", got, err)
	}

	// Revision 5 is cut short, 4 has a flipped byte in its snapshot: 3 is
	// the newest whole one.
	b, _ := os.ReadFile(c.path(5))
	os.WriteFile(c.path(5), b[:len(b)/2], 0o600)
	b, _ = os.ReadFile(c.path(4))
	i := len(b) - 20
	b[i] ^= 1
	os.WriteFile(c.path(4), b, 0o600)
	got, err = c.Load()
	if err != nil || got.Snapshot.Revision != 3 || len(got.Skipped) != 2 {
		t.Fatalf("Load over damaged files = rev %v, skipped %v, %v; want 3 with two skipped", got.Snapshot, got.Skipped, err)
	}

	// A file renamed to another revision is not taken for it.
	os.Rename(c.path(3), c.path(9))
	got, err = c.Load()
	if err == nil {
		t.Fatalf("Load = revision %d from a renamed file; want none whole", got.Snapshot.Revision)
	}
}

// TestOpenSecrets: sealed secrets open with the right key and stay closed
// (empty) with another or none; nothing sealed is left behind.
func TestOpenSecrets(t *testing.T) {
	keys := mustKeyring(t)
	sealedHMAC, _ := keys.Seal("hmac-secret", "cred-1")
	sealedPW, _ := keys.Seal("db-password", "ds-1")
	sealedKey, _ := keys.Seal("PEM key", "cert-1")
	mk := func() *spec.Snapshot {
		return &spec.Snapshot{Groups: []spec.GroupSnapshot{{
			Consumers:    []spec.Consumer{{Credentials: []spec.ConsumerCredential{{ID: "cred-1", Sealed: sealedHMAC}, {ID: "cred-2", Sealed: sealedHMAC}}}},
			DataSources:  []spec.DataSource{{ID: "ds-1", Sealed: sealedPW}},
			Certificates: []spec.Certificate{{ID: "cert-1", Sealed: sealedKey}, {ID: "cert-2", Sealed: sealedKey}},
		}}}
	}
	s := mk()
	OpenSecrets(spec.SnapshotUpdate{Snapshot: s}, keys)
	cs, ds, certs := s.Groups[0].Consumers[0].Credentials, s.Groups[0].DataSources[0], s.Groups[0].Certificates
	if cs[0].Secret != "hmac-secret" || cs[1].Secret != "" || ds.Secret != "db-password" || certs[0].Secret != "PEM key" || certs[1].Secret != "" {
		t.Errorf("opened: %q %q %q %q %q; want the secret, nothing for a value sealed for another id, the password, the key, nothing",
			cs[0].Secret, cs[1].Secret, ds.Secret, certs[0].Secret, certs[1].Secret)
	}
	s = mk()
	OpenSecrets(spec.SnapshotUpdate{Snapshot: s}, nil)
	cs, ds, certs = s.Groups[0].Consumers[0].Credentials, s.Groups[0].DataSources[0], s.Groups[0].Certificates
	if cs[0].Secret != "" || cs[0].Sealed != "" || ds.Secret != "" || ds.Sealed != "" || certs[0].Secret != "" || certs[0].Sealed != "" {
		t.Errorf("without a key: %+v %+v %+v; want nothing open and nothing sealed left", cs[0], ds, certs[0])
	}
}

// TestCacheResetAndGroup: a reset (a lower revision saved after higher
// ones) drops the higher ones, so a cold start serves the reset; a
// snapshot of another group is never loaded; clear secrets are not
// written.
func TestCacheResetAndGroup(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Group: "g"}
	now := time.Now()
	for _, rev := range []int64{10, 11, 12} {
		if err := c.Save(snapAt(rev), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(snapAt(4), now); err != nil {
		t.Fatal(err)
	}
	got, err := c.Load()
	if err != nil || got.Snapshot.Revision != 4 {
		t.Fatalf("Load after a reset = %v, %v; want revision 4", got.Snapshot, err)
	}
	if revs, _ := c.revisions(); len(revs) != 1 {
		t.Errorf("kept %v after the reset, want [4]", revs)
	}

	other := &Cache{Dir: c.Dir, Group: "other"}
	if _, err := other.Load(); err == nil {
		t.Error("a cache of group g loaded for group other")
	}

	withSecret := snapAt(5)
	withSecret.Groups[0].Consumers = []spec.Consumer{{Credentials: []spec.ConsumerCredential{{ID: "c", Secret: "clear!"}}}}
	withSecret.Groups[0].DataSources = []spec.DataSource{{ID: "d", Secret: "pw!"}}
	withSecret.Groups[0].Certificates = []spec.Certificate{{ID: "e", Secret: "key!"}}
	if err := c.Save(withSecret, now); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(c.path(5))
	if strings.Contains(string(b), "clear!") || strings.Contains(string(b), "pw!") || strings.Contains(string(b), "key!") {
		t.Errorf("a clear secret was written to the cache: %s", b)
	}
	if withSecret.Groups[0].Consumers[0].Credentials[0].Secret != "clear!" {
		t.Error("Save changed the snapshot it was given")
	}
}
