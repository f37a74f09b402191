package proxycache

import (
	"container/list"
	"sync"
	"time"
	"weak"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Key is an entry's key: the first 16 bytes of the SHA-256 of what the
// request is keyed by (key.go). Its hex form is X-Cache-Key and what the
// admin API purges by.
type Key [16]byte

// entry is one stored answer. It is never modified once stored: a hit
// reads it without holding the store's lock.
type entry struct {
	status  int
	header  []plugin.HeaderField // names canonical, one per name
	body    []byte
	stored  time.Time
	expires time.Time
	size    int64
}

// entryOverhead is what an entry costs beside its bytes: the map and
// list slots, the struct, the header slice.
const entryOverhead = 256

func entrySize(status int, header []plugin.HeaderField, body []byte) int64 {
	n := int64(entryOverhead + len(body))
	for _, h := range header {
		n += int64(len(h.Name) + len(h.Value) + 32)
	}
	return n
}

// memStore is one configuration's entries in the gateway's memory,
// bounded in bytes, least recently used evicted first. It outlives the
// tables that use it (Registry).
type memStore struct {
	mu    sync.Mutex
	limit int64
	used  int64
	m     map[Key]*list.Element
	lru   list.List // of *item, most recently used at the front
	// applied are the purges of keys this store has carried out, by
	// key and time, so a table rebuilt from the same snapshot does not
	// delete an entry stored after the purge.
	applied map[PurgedKey]bool
}

type item struct {
	key Key
	e   *entry
}

func newMemStore(limit int64) *memStore {
	return &memStore{limit: limit, m: map[Key]*list.Element{}}
}

// get returns the entry of k, fresh or not (the caller tells), and marks
// it used.
func (s *memStore) get(k Key) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[k]
	if !ok {
		return nil
	}
	s.lru.MoveToFront(el)
	return el.Value.(*item).e
}

// put stores e under k, replacing what k held, and evicts the least
// recently used entries past the store's bound.
func (s *memStore) put(k Key, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.size > s.limit {
		return
	}
	if el, ok := s.m[k]; ok {
		s.removeLocked(el)
	}
	s.m[k] = s.lru.PushFront(&item{key: k, e: e})
	s.used += e.size
	s.evictLocked()
}

// del removes k's entry when it is still e (nil: whatever it is).
func (s *memStore) del(k Key, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.m[k]; ok && (e == nil || el.Value.(*item).e == e) {
		s.removeLocked(el)
	}
}

func (s *memStore) removeLocked(el *list.Element) {
	it := s.lru.Remove(el).(*item)
	delete(s.m, it.key)
	s.used -= it.e.size
}

func (s *memStore) evictLocked() {
	for s.used > s.limit {
		back := s.lru.Back()
		if back == nil {
			return
		}
		s.removeLocked(back)
	}
}

// resize sets the bound (a configuration's memory_size changed).
func (s *memStore) resize(limit int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = limit
	s.evictLocked()
}

// stats are the store's entries and bytes.
func (s *memStore) stats() (entries int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), s.used
}

// applyPurges deletes the entries of the purged keys it has not purged
// before; remote deletes them where the configuration's strategy keeps
// them (nil: memory). The list is the service's whole list: purges no
// longer in it are forgotten.
func (s *memStore) applyPurges(keys []PurgedKey, remote func(Key)) {
	s.mu.Lock()
	var fresh []Key
	seen := make(map[PurgedKey]bool, len(keys))
	for _, pk := range keys {
		seen[pk] = true
		if s.applied[pk] {
			continue
		}
		k, ok := ParseKey(pk.Key)
		if !ok {
			continue
		}
		if el, ok := s.m[k]; ok {
			s.removeLocked(el)
		}
		fresh = append(fresh, k)
	}
	s.applied = seen
	s.mu.Unlock()
	if remote != nil {
		for _, k := range fresh {
			remote(k)
		}
	}
}

// Registry keeps the gateway's cache stores across reloads, one per
// configuration scope (a service's or a route's proxy-cache). It holds
// them weakly: a store no table uses any more is freed with its entries.
type Registry struct {
	mu     sync.Mutex
	stores map[string]weak.Pointer[memStore]
	// pruneAt is the number of stores at which the freed ones are
	// dropped from the map (twice the live ones at the last pruning).
	pruneAt int
	remote  Remote
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{stores: map[string]weak.Pointer[memStore]{}} }

// UseRemote gives the registry the gateway's Redis for strategy redis;
// nil: such configurations keep their entries in memory.
func (r *Registry) UseRemote(rem Remote) {
	r.mu.Lock()
	r.remote = rem
	r.mu.Unlock()
}

// store returns scope's store, bound to limit bytes, and the remote.
func (r *Registry) store(scope string, limit int64) (*memStore, Remote) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.stores) >= r.pruneAt {
		for id, wp := range r.stores {
			if wp.Value() == nil {
				delete(r.stores, id)
			}
		}
		r.pruneAt = max(64, 2*len(r.stores))
	}
	if s := r.stores[scope].Value(); s != nil {
		s.resize(limit)
		return s, r.remote
	}
	s := newMemStore(limit)
	r.stores[scope] = weak.Make(s)
	return s, r.remote
}

// Stats are the entries and bytes of every store in use.
func (r *Registry) Stats() (entries int, bytes int64) {
	r.mu.Lock()
	var live []*memStore
	for _, wp := range r.stores {
		if s := wp.Value(); s != nil {
			live = append(live, s)
		}
	}
	r.mu.Unlock()
	for _, s := range live {
		n, b := s.stats()
		entries += n
		bytes += b
	}
	return entries, bytes
}
