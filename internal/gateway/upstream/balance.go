package upstream

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Balancers a pool picks its nodes with (spec.Upstream.LoadBalancer).
const (
	// RoundRobin is smooth weighted round robin (the default).
	RoundRobin = iota
	// LeastConn picks the node with the fewest requests in flight for its
	// weight; the engines report each request's end (Done).
	LeastConn
	// ConsistentHash keeps one key (a header, cookie, query parameter,
	// the client's address, the path or the consumer) on one node, and
	// moves about 1/N of the keys when a node joins or leaves.
	ConsistentHash
	// EWMA is peak-EWMA latency: of two nodes drawn at random, the one
	// whose recent latency (a peak is taken at once, then decays) times
	// its requests in flight is lower (ewma.go).
	EWMA
)

// Request is what a consistent hash takes its key from.
type Request interface {
	Header(name string) string
	Cookie(name string) string
	Query(name string) string
	Path() string
	ClientAddr() netip.Addr
	ConsumerName() string
}

// pointsPerWeight is how many points a node of weight 1 (after the
// weights' common divisor) has on the ring, as nginx's consistent hash;
// maxRing bounds the ring, scaling the points down.
const (
	pointsPerWeight = 160
	maxRing         = 16384
)

// ringPoint is one point of a node on the hash ring.
type ringPoint struct {
	hash uint32
	node uint16
}

// buildRing places each node at points derived from its address alone, so
// that every gateway builds the same ring and a node joining or leaving
// moves only the keys of its own points.
func buildRing(nodes []*Node) []ringPoint {
	if len(nodes) == 0 {
		return nil
	}
	g := nodes[0].Weight
	total := 0
	for _, n := range nodes {
		g = gcd(g, n.Weight)
	}
	for _, n := range nodes {
		total += n.Weight / g * pointsPerWeight
	}
	scale := 1.0
	if total > maxRing {
		scale = float64(maxRing) / float64(total)
	}
	ring := make([]ringPoint, 0, min(total, maxRing+len(nodes)))
	for i, n := range nodes {
		points := max(1, int(float64(n.Weight/g*pointsPerWeight)*scale))
		for p := range points {
			h := hashString(n.Addr + "-" + strconv.Itoa(p))
			ring = append(ring, ringPoint{hash: h, node: uint16(i)})
		}
	}
	slices.SortFunc(ring, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return int(a.node) - int(b.node)
	})
	return ring
}

// Pick chooses the node of a new request, or nil when the pool is empty.
// A request without the key a consistent hash asks for (no such header)
// is balanced round robin.
func (p *Pool) Pick(req Request) *Node {
	switch p.Balancer {
	case LeastConn:
		return p.leastConn(nil)
	case EWMA:
		return p.twoChoices(nil)
	case ConsistentHash:
		if h, ok := p.hashOf(req); ok {
			return p.onRing(h, nil)
		}
	}
	return p.Next()
}

// PickExcept chooses a node for a retry that is none of the failed ones:
// the next node on the ring, the least loaded of the others, or the next
// in the round robin.
func (p *Pool) PickExcept(req Request, failed []*Node) *Node {
	switch p.Balancer {
	case LeastConn:
		return p.leastConn(failed)
	case EWMA:
		return p.twoChoices(failed)
	case ConsistentHash:
		if h, ok := p.hashOf(req); ok {
			return p.onRing(h, failed)
		}
	}
	return p.NextExcept(failed...)
}

// counts reports whether requests in flight are counted: for a node's
// limit, for least_conn and ewma.
func (p *Pool) counts() bool {
	return p.maxRequests > 0 || p.Balancer == LeastConn || p.Balancer == EWMA
}

// Begin counts a request in flight on node; Done or Failed counts it out.
// It reports false, counting nothing, when the node already has its most
// requests in flight: the request is to be refused (ErrOverloaded).
func (p *Pool) Begin(n *Node) bool {
	if n == nil || !p.counts() {
		return true
	}
	if a := n.active.Add(1); p.maxRequests > 0 && a > p.maxRequests {
		n.active.Add(-1)
		return false
	}
	return true
}

// ErrOverloaded is a request refused because its node already had the
// upstream's connections.max_requests in flight: the engines answer 503
// upstream_overloaded at once.
var ErrOverloaded = errors.New("the upstream node has its most requests in flight")

// OverloadedMessage is what the 503 upstream_overloaded answer says.
const OverloadedMessage = "the upstream has as many requests in flight as it takes; try again shortly"

// Done counts out a request Begin counted in, which took elapsed (ewma
// learns it; 0: nothing to learn).
func (p *Pool) Done(n *Node, elapsed time.Duration) {
	if n == nil || !p.counts() {
		return
	}
	n.active.Add(-1)
	if p.Balancer == EWMA && elapsed > 0 {
		n.observe(elapsed, time.Now())
	}
}

// Failed counts out a request Begin counted in whose node could not be
// reached: ewma takes it as a latency of the connect timeout.
func (p *Pool) Failed(n *Node) { p.Done(n, p.Timeouts.Connect) }

// leastConn is the node with the fewest requests in flight per unit of
// weight among those up and not failed; ties go round robin, so an idle
// pool is still spread.
func (p *Pool) leastConn(failed []*Node) *Node {
	s := p.nodes()
	n := len(s.nodes)
	if n == 0 {
		return nil
	}
	start := int(p.cursor.Add(1) % uint64(n))
	for range n { // a half-open node whose trial another request took is passed over
		var best *Node
		var bestActive int64
		for k := range n {
			node := s.nodes[(start+k)%n]
			if slices.Contains(failed, node) || !node.health.eligible() {
				continue
			}
			a := node.active.Load()
			// a/w < best/bw, without division.
			if best == nil || a*int64(best.Weight) < bestActive*int64(node.Weight) {
				best, bestActive = node, a
			}
		}
		if best == nil || best.health.take() {
			return best
		}
		failed = append(failed[:len(failed):len(failed)], best)
	}
	return nil
}

// onRing is the node of the first point at or after h that is up and not
// failed.
func (p *Pool) onRing(h uint32, failed []*Node) *Node {
	s := p.nodes()
	if len(s.ring) == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(s.ring, h, func(pt ringPoint, h uint32) int {
		switch {
		case pt.hash < h:
			return -1
		case pt.hash > h:
			return 1
		}
		return 0
	})
	var last *Node
	for k := range s.ring {
		node := s.nodes[s.ring[(i+k)%len(s.ring)].node]
		if node == last { // the run of one node's points
			continue
		}
		last = node
		if (len(failed) == 0 || !slices.Contains(failed, node)) && node.health.take() {
			return node
		}
	}
	return nil
}

// hashOf is the hash of the request's key; false when it has none.
func (p *Pool) hashOf(req Request) (uint32, bool) {
	if req == nil {
		return 0, false
	}
	var key string
	switch p.hashKind {
	case spec.HashHeader:
		key = req.Header(p.hashName)
	case spec.HashCookie:
		key = req.Cookie(p.hashName)
	case spec.HashQuery:
		key = req.Query(p.hashName)
	case spec.HashURI:
		key = req.Path()
	case spec.HashConsumer:
		key = req.ConsumerName()
	default: // ip, and chash without hash_on
		a := req.ClientAddr()
		if !a.IsValid() {
			return 0, false
		}
		h := uint64(fnvOffset)
		for _, x := range a.Unmap().As16() {
			h = (h ^ uint64(x)) * fnvPrime
		}
		return mix(h), true
	}
	if key == "" {
		return 0, false
	}
	return hashString(key), true
}

// FNV-1a, then a finaliser that spreads every input bit over the result:
// keys that differ in one character ("user-1", "user-2") must land far
// apart on the ring, which neither FNV nor CRC-32 alone ensures. Stable
// across processes, so every gateway places a key alike.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(s string) uint32 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return mix(h)
}

// mix is MurmurHash3's 64-bit finaliser, folded to 32 bits.
func mix(h uint64) uint32 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h >> 32)
}
