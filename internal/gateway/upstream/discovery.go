package upstream

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/portico-gw/portico/internal/spec"
)

// Found is the node list of a discovered upstream as its registry last
// reported it. The gateway's discovery follower sets it; every pool of the
// upstream (each revision's, each route's) reads it, and rebuilds its
// schedule and ring the first time it picks a node after a change.
type Found struct {
	mu      sync.Mutex
	nodes   []spec.Node
	version atomic.Uint64
}

// NewFound is an empty list (no node yet: 503 until the registry answers).
func NewFound() *Found { return &Found{} }

// Nodes is the list now and its version.
func (f *Found) Nodes() ([]spec.Node, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nodes, f.version.Load()
}

// Set replaces the list; the caller gives up nodes.
func (f *Found) Set(nodes []spec.Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Equal(f.nodes, nodes) && f.version.Load() != 0 {
		return
	}
	f.nodes = nodes
	f.version.Add(1)
}

// refresh rebuilds a discovered pool's node set from its Found list; of
// the requests that see the change at once, one rebuilds and the others
// use what it built (or the old set, for the moment it takes). Nodes that
// stay keep their figures (in flight, latency) and their health.
func (p *Pool) refresh(old *nodeSet) *nodeSet {
	if !p.refreshing.CompareAndSwap(false, true) {
		return old
	}
	defer p.refreshing.Store(false)
	if s := p.set.Load(); s != old {
		return s
	}
	nodes, v := p.found.Nodes()
	s := p.buildSet(nodes, v)
	for i, n := range s.nodes {
		for _, o := range old.nodes {
			if o.Addr == n.Addr && o.Weight == n.Weight {
				s.nodes[i] = o
				break
			}
		}
	}
	p.set.Store(s)
	return s
}
