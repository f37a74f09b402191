package upstream

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// ewmaDecay is how fast a node's latency estimate forgets: a sample
// weighs exp(-age/ewmaDecay). Ten seconds, as Finagle's and Linkerd's
// peak EWMA.
const ewmaDecay = 10 * time.Second

// observe folds one request's latency into the node's estimate: a peak
// is taken at once (a node turning slow is avoided at once), a lower
// latency pulls the estimate down as it ages. Two gateways' goroutines
// may race here; the estimate is a hint, the last write wins.
func (n *Node) observe(rtt time.Duration, now time.Time) {
	nowNs := now.UnixNano()
	prev := n.ewma.Load()
	last := n.ewmaAt.Swap(nowNs)
	x := float64(rtt)
	if prev == 0 || x > float64(prev) {
		n.ewma.Store(int64(x))
		return
	}
	w := math.Exp(-float64(nowNs-last) / float64(ewmaDecay))
	n.ewma.Store(int64(float64(prev)*w + x*(1-w)))
}

// cost is what ewma compares: the latency estimate times the requests in
// flight (plus this one), per unit of weight. A node never measured costs
// nothing, so a new node gets traffic at once.
func (n *Node) cost() float64 {
	return float64(n.ewma.Load()) * float64(n.active.Load()+1) / float64(n.Weight)
}

// twoChoices draws two nodes that are up and have not failed and takes
// the cheaper ("the power of two choices": near the best pick, at the
// cost of two).
func (p *Pool) twoChoices(failed []*Node) *Node {
	nodes := p.nodes().nodes
	if len(failed) > 0 || !allHealthy(nodes) {
		candidates := make([]*Node, 0, len(nodes))
		for _, n := range nodes {
			if !slices.Contains(failed, n) && n.health.eligible() {
				candidates = append(candidates, n)
			}
		}
		nodes = candidates
	}
	for len(nodes) > 0 {
		var pick *Node
		if len(nodes) == 1 {
			pick = nodes[0]
		} else {
			i := rand.IntN(len(nodes))
			j := rand.IntN(len(nodes) - 1)
			if j >= i {
				j++
			}
			pick = nodes[i]
			if b := nodes[j]; b.cost() < pick.cost() {
				pick = b
			}
		}
		if pick.health.take() {
			return pick
		}
		// A half-open node whose trial another request took.
		nodes = slices.DeleteFunc(slices.Clone(nodes), func(n *Node) bool { return n == pick })
	}
	return nil
}

// allHealthy reports whether every node is up without a condition, so a
// pick needs no list of its own.
func allHealthy(nodes []*Node) bool {
	for _, n := range nodes {
		if !n.health.up() {
			return false
		}
	}
	return true
}
