package match

import (
	"slices"
	"strings"
	"sync/atomic"
)

// Editing a Matcher copies only the paths it touches (a persistent tree):
// the new matcher shares every other node with the old one, which keeps
// answering lookups unchanged, without a lock, during and after the edit.
//
// Ownership decides what may change in place. Every Builder draws a
// generation number no other Builder has. A node records the generation of
// the Builder that made or copied it, and which of its literal maps that
// Builder made (owned: a copy shares its original's maps until it changes
// one). A Builder changes only what is its own and copies anything else
// first, so a node this edit already copied is changed in place by the
// next Add or Remove, and a node reachable from a built matcher never
// changes: its Builder is done, and no later Builder has its number. Entry
// lists and wilds slices are never changed in place at all (they are
// short), so copying a node does not copy them.

var generations atomic.Uint64

// nextGen starts at 1: no node has generation 0.
func nextGen() uint64 { return generations.Add(1) }

// Edit returns a Builder that starts from m's routes. Its Build returns a
// new Matcher; m itself never changes and stays safe for concurrent Lookup
// during and after the edit; several edits of one Matcher may run at once,
// each Builder on its own goroutine. The edit costs what it touches: the
// nodes on the paths of the routes added or removed, not the size of the
// table.
func (m *Matcher[T]) Edit() *Builder[T] {
	return &Builder[T]{m: &Matcher[T]{root: m.root, n: m.n}, gen: nextGen()}
}

// Remove removes the entries Add(r) would have created, those at r's path
// (the same segments, parameter names included, whichever of {id} or :id
// spells them), for each of r.Hosts (any host when none, hosts compared
// without case) with exactly r's method set, whose value satisfies same (a
// nil same accepts any value). It returns how many it removed: 0 for a
// route that is not there or could not have been added, never a panic.
// Nodes, wildcards and literal maps left empty are pruned.
func (b *Builder[T]) Remove(r Route[T], same func(T) bool) int {
	var sbuf [8]segment
	segs, err := parsePath(r.Path, sbuf[:0])
	if err != nil {
		return 0
	}
	mask, err := methodMask(r.Methods)
	if err != nil {
		return 0
	}
	hosts := r.Hosts
	if len(hosts) == 0 {
		hosts = anyHost
	}
	return b.removeWhere(segs, func(e *entry[T]) bool {
		return e.methods == mask && sameNames(e.names, segs) &&
			slices.ContainsFunc(hosts, func(h string) bool { return strings.ToLower(h) == e.host }) &&
			(same == nil || same(e.value))
	})
}

// RemoveValue removes the entries of path, whatever their hosts and
// methods, whose value same accepts, and answers how many: what a caller
// that keeps each route's paths, and not the rest of what it added,
// removes a route with.
func (b *Builder[T]) RemoveValue(path string, same func(T) bool) int {
	var sbuf [8]segment
	segs, err := parsePath(path, sbuf[:0])
	if err != nil {
		return 0
	}
	return b.removeWhere(segs, func(e *entry[T]) bool { return sameNames(e.names, segs) && same(e.value) })
}

// removeWhere removes the entries of segs that gone accepts.
func (b *Builder[T]) removeWhere(segs []segment, gone func(*entry[T]) bool) int {
	// One pass, gone called once per entry: keep is made (fresh, as the old
	// list may be held by a matcher) at the first entry to remove.
	var kbuf [8]*entry[T]
	keep := kbuf[:0]
	removed := 0
	for e := endpoint(b.m.root, segs); e != nil; e = e.next {
		if gone(e) {
			removed++
		} else {
			keep = append(keep, e)
		}
	}
	if removed == 0 {
		return 0 // nothing copied for a route that is not there
	}
	var buf [8]*node[T]
	path := b.reach(segs, buf[:0])
	b.setEndpoint(path[len(path)-1], segs, link(keep))
	b.prune(path, segs)
	b.m.n -= removed
	return removed
}

// sameNames reports whether names are those of the parameters in segs.
func sameNames(list *[]string, segs []segment) bool {
	var names []string
	if list != nil {
		names = *list
	}
	i := 0
	for _, s := range segs {
		if s.kind == segParam {
			if i == len(names) || names[i] != s.text {
				return false
			}
			i++
		}
	}
	return i == len(names)
}

// endpoint is the entry list of segs below root as it stands, or nil.
func endpoint[T any](root *node[T], segs []segment) *entry[T] {
	n := root
	for _, s := range segs {
		if n == nil {
			return nil
		}
		switch s.kind {
		case segLiteral:
			n = n.static(s.text)
		case segParam:
			n = n.param
		case segWild:
			if ws := n.wilds(); wildIndex(ws, s.text) >= 0 {
				return ws[wildIndex(ws, s.text)].entries
			}
			return nil
		}
	}
	if n == nil {
		return nil
	}
	return n.end
}

func wildIndex[T any](ws []wild[T], prefix string) int {
	return slices.IndexFunc(ws, func(w wild[T]) bool { return w.prefix == prefix })
}

// reach makes the nodes on the path of segs (the wildcard excepted) the
// Builder's own, copying those it does not own and making those missing,
// and appends them to path from the root down.
func (b *Builder[T]) reach(segs []segment, path []*node[T]) []*node[T] {
	b.m.root = b.own(b.m.root)
	n := b.m.root
	path = append(path, n)
	for _, s := range segs {
		switch s.kind {
		case segLiteral:
			c := n.static(s.text)
			if oc := b.own(c); oc != c {
				b.setStatic(n, s.text, oc)
				c = oc
			}
			n = c
		case segParam:
			n.param = b.own(n.param)
			n = n.param
		case segWild:
			continue // held by the node before it
		}
		path = append(path, n)
	}
	return path
}

// own returns n when the Builder owns it, else a copy it owns (a new node
// for nil). The copy shares entry lists, wilds and literal maps; a map is
// copied when this Builder first changes it (mutable).
func (b *Builder[T]) own(n *node[T]) *node[T] {
	switch {
	case n == nil:
		return &node[T]{gen: b.gen}
	case n.gen == b.gen:
		return n
	}
	c := *n
	c.gen = b.gen
	if n.more != nil {
		m := *n.more
		m.owned, m.ownStatics = 0, false
		if m.shards != nil {
			arr := *m.shards // changed in place as shards are copied
			m.shards = &arr
		}
		c.more = &m
	}
	return &c
}

// setEndpoint puts list (nil: none) as the entries of segs at n, the owned
// node at the end of their path.
func (b *Builder[T]) setEndpoint(n *node[T], segs []segment, list *entry[T]) {
	last := segs[len(segs)-1]
	if last.kind != segWild {
		n.end = list
		return
	}
	// A new wilds slice: the old one may be shared with a built matcher.
	ws := slices.Clone(n.wilds())
	switch i := wildIndex(ws, last.text); {
	case i < 0 && list != nil:
		// Longest prefix first: walk takes the first wildcard that
		// matches at a depth, and "/blog/bar*" is meant to beat
		// "/blog/*" whichever was added first.
		j, _ := slices.BinarySearchFunc(ws, len(last.text), func(w wild[T], n int) int { return n - len(w.prefix) })
		ws = slices.Insert(ws, j, wild[T]{prefix: strings.Clone(last.text), depth: len(segs) - 1, entries: list})
	case i >= 0 && list != nil:
		ws[i].entries = list
	case i >= 0:
		ws = slices.Delete(ws, i, i+1)
	}
	if len(ws) == 0 {
		ws = nil
	}
	if ws != nil || n.more != nil {
		n.extra().wilds = ws
	}
	n.dropEmptyMore()
}

// dropEmptyMore lets go of a more that holds nothing (n is owned).
func (n *node[T]) dropEmptyMore() {
	if m := n.more; m != nil && m.statics == nil && m.shards == nil && len(m.wilds) == 0 {
		n.more = nil
	}
}

// prune drops the nodes of path (owned, from the root down) that hold
// nothing any more, deepest first. An empty node changes no answer, but
// left behind it would keep memory and make later edits copy more.
func (b *Builder[T]) prune(path []*node[T], segs []segment) {
	// segs[i] leads from path[i] to path[i+1]; a wildcard adds no node.
	for i := len(path) - 1; i > 0; i-- {
		if !path[i].empty() {
			return
		}
		parent, s := path[i-1], segs[i-1]
		if s.kind == segParam {
			parent.param = nil
		} else {
			b.deleteStatic(parent, s.text)
		}
	}
}

func (n *node[T]) empty() bool {
	return !n.hasStatics() && n.param == nil && n.end == nil && len(n.wilds()) == 0
}
