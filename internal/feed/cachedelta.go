package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// A delta the gateway applied is cached as a file of its own next to the
// snapshot it follows, so caching a publish costs what the publish
// changed, not the size of the group. Load chains them onto the newest
// whole snapshot; once maxCachedDeltas pile up, they are folded into a new
// snapshot file (compact).

// deltaFile is the form of one cached delta on disk.
type deltaFile struct {
	Revision int64           `json:"revision"`
	Base     int64           `json:"base"`
	SavedAt  time.Time       `json:"saved_at"`
	SHA256   string          `json:"sha256"` // of Delta, as stored
	Delta    json.RawMessage `json:"delta"`
}

const deltaPrefix = "delta-"

// maxCachedDeltas bounds the delta files: past it they are compacted.
const maxCachedDeltas = 64

// saveDeltaRaw writes a delta already encoded (secrets sealed).
func (c *Cache) saveDeltaRaw(base, rev int64, raw []byte, now time.Time) error {
	sum := sha256.Sum256(raw)
	b, err := json.Marshal(deltaFile{Revision: rev, Base: base, SavedAt: now.UTC(), SHA256: hex.EncodeToString(sum[:]), Delta: raw})
	if err != nil {
		return fmt.Errorf("cache delta %d→%d: %w", base, rev, err)
	}
	if err := c.writeAtomic(c.deltaPath(rev), b); err != nil {
		return fmt.Errorf("cache delta %d→%d: %w", base, rev, err)
	}
	return nil
}

// compact folds the cached deltas into a snapshot file once there are
// more than maxCachedDeltas of them, and says whether it did. It reads
// and writes the whole group: the cache writer runs it in the background.
func (c *Cache) compact(now time.Time) (bool, error) {
	deltas, err := c.deltaRevisions()
	if err != nil || len(deltas) <= maxCachedDeltas {
		return false, err
	}
	cached, err := c.Load()
	if err != nil {
		return false, err
	}
	return true, c.Save(cached.Snapshot, now)
}

// chainDeltas applies to out.Snapshot every cached delta that chains onto
// it, oldest first, and names the damaged ones it stopped at. A delta that
// does not chain (it started from a revision the snapshot went past) is
// passed over; a gap ends the chain: the cache then serves the last
// revision it holds whole.
func (c *Cache) chainDeltas(out *Cached) (skipped []string) {
	revs, _ := c.deltaRevisions()
	slices.Reverse(revs) // oldest first
	for _, r := range revs {
		snap := out.Snapshot
		if r <= snap.Revision {
			continue
		}
		d, saved, err := c.readDelta(r)
		if err != nil {
			return append(skipped, fmt.Sprintf("%s: %v", filepath.Base(c.deltaPath(r)), err))
		}
		if d.Base < snap.Revision {
			continue
		}
		if err := snap.ApplyDelta(d); err != nil {
			return skipped // a gap
		}
		out.SavedAt = saved
	}
	return skipped
}

func (c *Cache) readDelta(rev int64) (*spec.SnapshotDelta, time.Time, error) {
	b, err := os.ReadFile(c.deltaPath(rev))
	if err != nil {
		return nil, time.Time{}, err
	}
	var f deltaFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, time.Time{}, fmt.Errorf("not a cached delta: %w", err)
	}
	sum := sha256.Sum256(f.Delta)
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, time.Time{}, errors.New("checksum mismatch")
	}
	var d spec.SnapshotDelta
	if err := json.Unmarshal(f.Delta, &d); err != nil {
		return nil, time.Time{}, fmt.Errorf("delta: %w", err)
	}
	if d.Revision != f.Revision || d.Revision != rev || d.Base != f.Base || d.Base >= d.Revision {
		return nil, time.Time{}, fmt.Errorf("holds revisions %d→%d, named %d", d.Base, d.Revision, rev)
	}
	for _, g := range d.Groups {
		if c.Group != "" && g.Group.Name != c.Group {
			return nil, time.Time{}, fmt.Errorf("a delta of group %q, not %q", g.Group.Name, c.Group)
		}
	}
	return &d, f.SavedAt, nil
}

func (c *Cache) deltaPath(rev int64) string {
	return filepath.Join(c.Dir, fmt.Sprintf("%s%020d%s", deltaPrefix, rev, cacheSuffix))
}

// deltaRevisions lists the revisions of the cached deltas, newest first.
func (c *Cache) deltaRevisions() ([]int64, error) { return c.filesOf(deltaPrefix) }
