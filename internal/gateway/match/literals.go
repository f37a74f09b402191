package match

import (
	"maps"
	"slices"
	"strings"
)

// A node holds its literal children in one of three forms, by how many it
// has:
//
//   - a few (up to maxKids): kids, a list ordered by length, then bytes,
//     which a lookup searches by halves. It is never changed in place, so
//     a copied node shares it; an edit makes a new one of the exact size.
//     Most nodes of a table have one or a few children, and a list of
//     them costs a third of a map's memory;
//   - more: more.statics, a map, changed in place by the Builder that made
//     it (more.ownStatics) and copied by any other;
//   - many (over shardAt): more.shards, maps split by hash, so that an
//     edit copies one small map of them.
//
// A form changes back below a lower mark than the one it changed at, so a
// node at the limit does not change on every edit.

// kid is a literal child.
type kid[T any] struct {
	key  string
	node *node[T]
}

// kidBefore orders a node's kids: by length, then bytes, so most
// comparisons of a search are of lengths.
func kidBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// kidIndex is where key is or would go in kids.
func kidIndex[T any](kids []kid[T], key string) int {
	lo, hi := 0, len(kids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if kidBefore(kids[m].key, key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// findKid is the child key in kids, or nil.
func findKid[T any](kids []kid[T], key string) *node[T] {
	if i := kidIndex(kids, key); i < len(kids) && kids[i].key == key {
		return kids[i].node
	}
	return nil
}

var (
	// maxKids is the most literal children a node keeps as a list, and
	// listAt where a map of them becomes a list again.
	maxKids, listAt = 16, 8
	// shardAt is where a node splits its literal children into shards, and
	// joinAt where it joins them again. Up to shardAt, copying the one
	// map is cheap (a few µs); past it, a lookup through the node pays for
	// shardOf (a few ns). Variables only so that tests can use small
	// nodes (those tests do not run in parallel).
	shardAt, joinAt = 128, 64
)

const (
	// nShards is the fan-out of a node with many literal children. An edit
	// copies the array of nShards maps (512 bytes) and one map of about
	// children/nShards entries: ~160 entries for 10 000 children instead
	// of a 10 000-entry map (~0.5 ms).
	shardBits = 6
	nShards   = 1 << shardBits
)

// shardOf picks the shard of a literal segment. It runs on every lookup
// through a sharded node, so it is a few multiplications (Fibonacci hashing
// of 8-byte words) rather than a seeded hash: the keys are the routes'
// own segments, not the requests', and keys that happened to crowd one shard
// would only make edits of that node copy more, never change an answer.
func shardOf(s string) uint64 {
	const k = 0x9E3779B97F4A7C15 // 2^64 divided by the golden ratio
	h := uint64(len(s))
	for ; len(s) > 8; s = s[8:] {
		h = (h ^ le32(s) ^ le32(s[4:])<<32) * k
	}
	var w uint64 // the last 1 to 8 bytes, read as two words that may overlap
	switch {
	case len(s) >= 4:
		w = le32(s) | le32(s[len(s)-4:])<<32
	case len(s) > 0:
		w = uint64(s[0]) | uint64(s[len(s)/2])<<8 | uint64(s[len(s)-1])<<16
	}
	return (h ^ w) * k >> (64 - shardBits)
}

// le32 reads 4 bytes of s little-endian; the compiler makes it one load.
func le32(s string) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// static is the literal child seg of n, or nil.
func (n *node[T]) static(seg string) *node[T] {
	if n.kids != nil {
		return findKid(*n.kids, seg)
	}
	if m := n.more; m != nil {
		if m.shards != nil {
			return m.shards[shardOf(seg)][seg]
		}
		return m.statics[seg]
	}
	return nil
}

// hasStatics reports whether n has a literal child.
func (n *node[T]) hasStatics() bool {
	return n.kids != nil || (n.more != nil && (n.more.statics != nil || n.more.shards != nil))
}

// mutable returns the map of n (owned, its children a map or shards) that
// holds key, copied first unless this Builder made it.
func (b *Builder[T]) mutable(n *node[T], key string) map[string]*node[T] {
	m := n.more
	if sh := m.shards; sh != nil {
		i := shardOf(key)
		if m.owned&(1<<i) == 0 || sh[i] == nil {
			c := maps.Clone(sh[i])
			if c == nil {
				c = map[string]*node[T]{}
			}
			sh[i] = c
			m.owned |= 1 << i
		}
		return sh[i]
	}
	if !m.ownStatics {
		m.statics, m.ownStatics = maps.Clone(m.statics), true
	}
	return m.statics
}

// setStatic sets the literal child key of n (owned) to c. The key is
// copied out of the route's path, which the matcher does not keep (a map
// stores the key given even when it had the key).
func (b *Builder[T]) setStatic(n *node[T], key string, c *node[T]) {
	key = strings.Clone(key)
	if !n.hasStatics() || n.kids != nil {
		var kids []kid[T]
		if n.kids != nil {
			kids = *n.kids
		}
		i := kidIndex(kids, key)
		if i < len(kids) && kids[i].key == key {
			kids = slices.Clone(kids)
			kids[i].node = c
			n.kids = &kids
			return
		}
		if len(kids) < maxKids {
			grown := make([]kid[T], len(kids)+1) // exact: kept for the table's life
			copy(grown, kids[:i])
			grown[i] = kid[T]{key, c}
			copy(grown[i+1:], kids[i:])
			n.kids = &grown
			return
		}
		m := make(map[string]*node[T], len(kids)+1)
		for _, k := range kids {
			m[k.key] = k.node
		}
		more := n.extra()
		more.statics, more.ownStatics = m, true
		n.kids = nil
	}
	m := b.mutable(n, key)
	_, had := m[key]
	m[key] = c
	switch more := n.more; {
	case more.shards != nil:
		if !had {
			more.nstatic++
		}
	case len(m) > shardAt:
		arr := new([nShards]map[string]*node[T])
		for k, v := range m {
			i := shardOf(k)
			if arr[i] == nil {
				arr[i] = map[string]*node[T]{}
			}
			arr[i][k] = v
		}
		more.statics, more.ownStatics = nil, false
		more.shards, more.nstatic, more.owned = arr, len(m), ^uint64(0)
	}
}

// deleteStatic removes the literal child key of n (owned).
func (b *Builder[T]) deleteStatic(n *node[T], key string) {
	if n.kids != nil {
		kids := *n.kids
		i := kidIndex(kids, key)
		if i == len(kids) || kids[i].key != key {
			return
		}
		if len(kids) == 1 {
			n.kids = nil
			return
		}
		shrunk := make([]kid[T], 0, len(kids)-1)
		shrunk = append(append(shrunk, kids[:i]...), kids[i+1:]...)
		n.kids = &shrunk
		return
	}
	delete(b.mutable(n, key), key)
	more := n.more
	switch {
	case more.shards == nil:
		if len(more.statics) < listAt {
			kids := make([]kid[T], 0, len(more.statics))
			for k, c := range more.statics {
				kids = append(kids, kid[T]{k, c})
			}
			slices.SortFunc(kids, func(a, b kid[T]) int {
				if kidBefore(a.key, b.key) {
					return -1
				}
				return 1 // keys are distinct
			})
			more.statics, more.ownStatics = nil, false
			if len(kids) > 0 {
				n.kids = &kids
			}
			n.dropEmptyMore()
		}
	case more.nstatic-1 < joinAt:
		m := make(map[string]*node[T], more.nstatic-1)
		for _, sh := range more.shards {
			maps.Copy(m, sh)
		}
		more.statics, more.ownStatics = m, true
		more.shards, more.nstatic, more.owned = nil, 0, 0
	default:
		more.nstatic--
	}
}
