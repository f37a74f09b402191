package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Cache keeps the last snapshots a gateway applied in a directory, so that
// a gateway starting while its control plane is unreachable serves what it
// served before. Each file is written to a temporary name, synced and
// renamed, and carries the SHA-256 of its snapshot: a file cut short by a
// crash or damaged on disk is skipped, and the newest whole one is used.
// Secrets stay sealed on disk.
type Cache struct {
	Dir   string
	Group string // a snapshot of another group (a reused directory) is never loaded
	Keep  int    // files kept, newest first; at least 1 (default 3)
}

// cacheFile is the form of one cached snapshot on disk.
type cacheFile struct {
	Revision int64           `json:"revision"`
	SavedAt  time.Time       `json:"saved_at"`
	SHA256   string          `json:"sha256"` // of Snapshot, as stored
	Snapshot json.RawMessage `json:"snapshot"`
}

const cachePrefix, cacheSuffix = "snapshot-", ".json"

func (c *Cache) keep() int {
	if c.Keep < 1 {
		return 3
	}
	return c.Keep
}

// Save writes snap (secrets sealed: clear ones are dropped) and removes
// all but the newest files, and any of a higher revision: after a reset
// (a control plane restored from an older backup) those are the past.
func (c *Cache) Save(snap *spec.Snapshot, now time.Time) error {
	raw, err := json.Marshal(withoutClearSecrets(snap))
	if err != nil {
		return fmt.Errorf("cache revision %d: %w", snap.Revision, err)
	}
	return c.saveRaw(snap.Revision, raw, now)
}

// saveRaw writes a snapshot already encoded (secrets sealed). Every
// cached delta goes: those below rev are in the snapshot, and those above
// it belong to a past the control plane no longer has (a reset) or did
// not chain.
func (c *Cache) saveRaw(rev int64, raw []byte, now time.Time) error {
	sum := sha256.Sum256(raw)
	b, err := json.Marshal(cacheFile{Revision: rev, SavedAt: now.UTC(), SHA256: hex.EncodeToString(sum[:]), Snapshot: raw})
	if err != nil {
		return fmt.Errorf("cache revision %d: %w", rev, err)
	}
	// The deltas go first: a crash between the two leaves an older but
	// consistent cache, never deltas of a past history chained onto a
	// snapshot after a reset.
	deltas, _ := c.deltaRevisions()
	for _, r := range deltas {
		_ = os.Remove(c.deltaPath(r))
	}
	if err := c.writeAtomic(c.path(rev), b); err != nil {
		return fmt.Errorf("cache revision %d: %w", rev, err)
	}
	revs, _ := c.revisions()
	kept := 0
	for _, r := range revs {
		if r > rev || kept >= c.keep() {
			_ = os.Remove(c.path(r))
			continue
		}
		kept++
	}
	return nil
}

// writeAtomic writes b to name through a synced temporary file and a
// rename, so name holds all of b or what it held before.
func (c *Cache) writeAtomic(name string, b []byte) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	c.removeTemporaries() // left by a crash between write and rename
	tmp, err := os.CreateTemp(c.Dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(c.Dir); err == nil { // the rename itself survives a crash once the directory is synced
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

const tmpPrefix = ".tmp-" + cachePrefix

func (c *Cache) removeTemporaries() {
	entries, _ := os.ReadDir(c.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(c.Dir, e.Name()))
		}
	}
}

// withoutClearSecrets is snap without any opened secret: a cache on disk
// holds them sealed or not at all.
func withoutClearSecrets(snap *spec.Snapshot) *spec.Snapshot {
	clear := false
	for _, g := range snap.Groups {
		for _, cons := range g.Consumers {
			for _, cr := range cons.Credentials {
				clear = clear || cr.Secret != ""
			}
		}
		for _, ds := range g.DataSources {
			clear = clear || ds.Secret != ""
		}
		for _, cert := range g.Certificates {
			clear = clear || cert.Secret != ""
		}
		for _, reg := range g.Registries {
			clear = clear || reg.Secret != ""
		}
	}
	if !clear {
		return snap
	}
	b, _ := json.Marshal(snap)
	var cp spec.Snapshot
	_ = json.Unmarshal(b, &cp)
	for gi := range cp.Groups {
		g := &cp.Groups[gi]
		for ci := range g.Consumers {
			for k := range g.Consumers[ci].Credentials {
				g.Consumers[ci].Credentials[k].Secret = ""
			}
		}
		for i := range g.DataSources {
			g.DataSources[i].Secret = ""
		}
		for i := range g.Certificates {
			g.Certificates[i].Secret = ""
		}
		for i := range g.Registries {
			g.Registries[i].Secret = ""
		}
	}
	return &cp
}

// Cached is a snapshot read back from the cache.
type Cached struct {
	Snapshot *spec.Snapshot
	SavedAt  time.Time
	Skipped  []string // damaged or unreadable files passed over, newest first
}

// Load returns the newest whole snapshot in the cache, brought forward by
// the cached deltas that chain onto it; fs.ErrNotExist when there is none.
func (c *Cache) Load() (Cached, error) {
	var out Cached
	revs, err := c.revisions()
	if err != nil {
		return out, err
	}
	for _, r := range revs {
		snap, saved, err := c.read(r)
		if err != nil {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s: %v", filepath.Base(c.path(r)), err))
			continue
		}
		out.Snapshot, out.SavedAt = snap, saved
		out.Skipped = append(out.Skipped, c.chainDeltas(&out)...)
		return out, nil
	}
	return out, fmt.Errorf("no whole snapshot in %s: %w", c.Dir, fs.ErrNotExist)
}

func (c *Cache) read(rev int64) (*spec.Snapshot, time.Time, error) {
	b, err := os.ReadFile(c.path(rev))
	if err != nil {
		return nil, time.Time{}, err
	}
	var f cacheFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, time.Time{}, fmt.Errorf("not a cached snapshot: %w", err)
	}
	sum := sha256.Sum256(f.Snapshot)
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, time.Time{}, errors.New("checksum mismatch")
	}
	var snap spec.Snapshot
	if err := json.Unmarshal(f.Snapshot, &snap); err != nil {
		return nil, time.Time{}, fmt.Errorf("snapshot: %w", err)
	}
	if snap.Revision != f.Revision || snap.Revision != rev {
		return nil, time.Time{}, fmt.Errorf("holds revision %d, named %d", snap.Revision, rev)
	}
	for _, g := range snap.Groups {
		if c.Group != "" && g.Group.Name != c.Group {
			return nil, time.Time{}, fmt.Errorf("a snapshot of group %q, not %q", g.Group.Name, c.Group)
		}
	}
	return &snap, f.SavedAt, nil
}

func (c *Cache) path(rev int64) string {
	return filepath.Join(c.Dir, fmt.Sprintf("%s%020d%s", cachePrefix, rev, cacheSuffix))
}

// revisions lists the cached revisions, newest first.
func (c *Cache) revisions() ([]int64, error) { return c.filesOf(cachePrefix) }

// filesOf lists the revisions of the files named prefix<revision>.json,
// newest first.
func (c *Cache) filesOf(prefix string) ([]int64, error) {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	var revs []int64
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		num, ok = strings.CutSuffix(num, cacheSuffix)
		if r, err := strconv.ParseInt(num, 10, 64); ok && err == nil {
			revs = append(revs, r)
		}
	}
	slices.Sort(revs)
	slices.Reverse(revs)
	return revs, nil
}
