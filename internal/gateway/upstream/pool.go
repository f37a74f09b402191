// Package upstream turns a spec.Upstream into a Pool: its nodes, the order in
// which requests visit them, and the timeouts and retry budget of a call.
// It knows no HTTP library; each engine attaches its own client to a Node.
package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Default timeouts of an upstream call, as in nginx's proxy_*_timeout but
// with a shorter connect: a dead node should fail over quickly.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultSendTimeout    = 60 * time.Second
	DefaultReadTimeout    = 60 * time.Second
)

// maxSchedule bounds the precomputed round-robin schedule; larger weight
// sums are scaled down, which keeps the ratios to within a fraction of one.
const maxSchedule = 4096

// Timeouts of one upstream call. Send and Read apply between two successive
// writes or reads, so a long stream that keeps moving never times out.
// Idle closes a kept-alive connection unused for that long.
type Timeouts struct {
	Connect, Send, Read, Idle time.Duration
}

// Node is one backend address. Clients are slots an engine fills with its
// own connection pool for the node the first time it uses it, so the hot
// path finds it with one atomic load.
type Node struct {
	Host   string
	Port   int
	Weight int
	Addr   string // host:port, IPv6 in brackets
	// HostHeader is the Host sent with pass_host "node": Addr without the
	// scheme's default port, as a browser would send it.
	HostHeader string
	// Key identifies the client an engine may share between nodes of
	// different builds: same scheme, address and timeouts.
	Key string
	// Clients are the slots, one per engine (ClientFast, ClientNetHTTP):
	// one process runs both on one table when its TLS listener speaks
	// HTTP/2, and each keeps its own type of client.
	Clients [clientSlots]atomic.Value
	active  atomic.Int64 // requests in flight, for least_conn and ewma (balance.go)
	ewma    atomic.Int64 // latency estimate (ns) and when it was last updated, for ewma (ewma.go)
	ewmaAt  atomic.Int64
	// health is the node's health under its upstream's checks, shared
	// by every pool of the same node and checks (health.go); nil: none.
	health *nodeHealth
}

// The engines' slots in Node.Clients.
const (
	ClientFast = iota
	ClientNetHTTP
	clientSlots
)

// Pool is a compiled upstream. Immutable but for the round-robin cursor,
// the balancers' figures and, for a discovered upstream, its nodes.
type Pool struct {
	Scheme       string // http, https, grpc (HTTP/2 without TLS) or grpcs
	PassHost     string // pass, node or rewrite
	UpstreamHost string // the Host sent with PassHost "rewrite"
	Timeouts     Timeouts
	// BasePath prefixes every upstream path (a registered API's URL path).
	BasePath string
	// TLSVerify checks an https node's certificate (the default).
	TLSVerify bool
	// rootCAs, serverName and clientCert are the rest of an https
	// upstream's handshake (ClientTLS); tlsKey tells them apart in
	// Node.Key, so engines never share a client across different ones.
	rootCAs    *x509.CertPool
	serverName string
	clientCert *tls.Certificate
	tlsKey     string
	// Registered is a third-party API given by URL: its address is hidden
	// from callers.
	Registered bool
	// retries is how many other nodes a failed request may try
	// (RetryBudget bounds it by the node count); Retry says which
	// failures (retry.go).
	retries int
	Retry   RetryPolicy
	// maxRequests is how many requests may be in flight to one node
	// (Begin refuses one more).
	maxRequests int64
	// set is the nodes and the orders they are visited in; a discovered
	// upstream swaps it when its registry reports a change (discovery.go).
	set    atomic.Pointer[nodeSet]
	cursor atomic.Uint64
	// Balancer is RoundRobin, LeastConn or ConsistentHash (balance.go);
	// a consistent hash takes its key as hashKind and hashName say.
	Balancer           int
	hashKind, hashName string
	// health keeps the nodes' health across revisions and checks is the
	// key of this upstream's checks in it (health.go); nil: no checks.
	health    *Health
	checks    *spec.HealthChecks
	checksKey string
	owner     Owner
	// found is the node list of a discovered upstream, refreshing makes
	// one request rebuild the set after a change (discovery.go).
	found      *Found
	refreshing atomic.Bool
}

// nodeSet is a pool's nodes with their round-robin schedule and hash ring.
type nodeSet struct {
	nodes    []*Node
	schedule []uint16
	ring     []ringPoint
	version  uint64 // of the discovered list it was built from
}

// Options are what compiling an upstream may need beyond its spec.
type Options struct {
	// ClientCert is presented to an https upstream that asks for one
	// (the upstream's tls.client_certificate, resolved by the caller).
	ClientCert *tls.Certificate
	// Health keeps node health across revisions and runs active checks;
	// nil: checks are compiled but nothing is checked (validation).
	Health *Health
	// Owner is whose upstream it is, for the health of its nodes.
	Owner Owner
	// Found is the node list a discovered upstream follows; nil: a
	// discovered upstream has no node (503).
	Found *Found
}

// New compiles u. Nodes with weight 0 are kept out of the schedule: weight 0
// is how an operator drains a node.
func New(u *spec.Upstream) *Pool { return Compile(u, Options{}) }

// NewTLS compiles u, presenting client to an https upstream that asks for
// a certificate (nil: none).
func NewTLS(u *spec.Upstream, client *tls.Certificate) *Pool {
	return Compile(u, Options{ClientCert: client})
}

// Compile compiles u.
func Compile(u *spec.Upstream, o Options) *Pool {
	p := &Pool{Scheme: u.Scheme, PassHost: u.PassHost, UpstreamHost: u.UpstreamHost, TLSVerify: true}
	if u.TLSVerify != nil {
		p.TLSVerify = *u.TLSVerify
	}
	p.setTLS(u.TLS, o.ClientCert)
	nodes := u.Nodes
	if u.URL != "" {
		// Validated by spec; a URL that does not parse leaves no node (503).
		if ru, err := spec.ParseUpstreamURL(u.URL); err == nil {
			p.Scheme, p.BasePath, p.Registered = ru.Scheme, ru.BasePath, true
			nodes = []spec.Node{{Host: ru.Host, Port: ru.Port, Weight: 1}}
			if p.PassHost == "" {
				p.PassHost = "node" // a third party serves its own name
			}
		}
	}
	if p.Scheme == "" {
		p.Scheme = "http"
	}
	if p.PassHost == "" {
		p.PassHost = "pass"
	}
	p.Timeouts = Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Read: DefaultReadTimeout,
		Idle: spec.DefaultUpstreamIdleTimeout * time.Second}
	if t := u.Timeout; t != nil {
		p.Timeouts.Connect = seconds(t.Connect, p.Timeouts.Connect)
		p.Timeouts.Send = seconds(t.Send, p.Timeouts.Send)
		p.Timeouts.Read = seconds(t.Read, p.Timeouts.Read)
	}
	p.maxRequests = spec.DefaultMaxRequestsPerNode
	if c := u.Connections; c != nil {
		p.Timeouts.Idle = seconds(c.IdleTimeout, p.Timeouts.Idle)
		if c.MaxRequests > 0 {
			p.maxRequests = int64(c.MaxRequests)
		}
	}
	p.retries = 1
	if u.Retries != nil {
		p.retries = *u.Retries
	}
	p.Retry = compileRetry(u.RetryPolicy)
	switch u.LoadBalancer {
	case "least_conn":
		p.Balancer = LeastConn
	case "ewma":
		p.Balancer = EWMA
	case "chash":
		p.Balancer = ConsistentHash
		p.hashKind, p.hashName, _ = spec.ParseUpstreamHashOn(u.HashOn) // checked by spec; "": the client's address
	}
	if u.Checks != nil && (u.Checks.Active != nil || u.Checks.Passive != nil) {
		p.health, p.checks, p.checksKey, p.owner = o.Health, u.Checks, checksKey(u.Checks), o.Owner
	}
	if u.Discovery != nil {
		p.found = o.Found
		nodes = nil
		if p.found != nil {
			var v uint64
			nodes, v = p.found.Nodes()
			p.set.Store(p.buildSet(nodes, v))
			// Gateways that start together should not all hit the first
			// node first.
			p.cursor.Store(rand.Uint64N(1 << 32))
			return p
		}
	}
	p.set.Store(p.buildSet(nodes, 0))
	p.cursor.Store(rand.Uint64N(1 << 32))
	return p
}

// buildSet compiles the nodes of the pool.
func (p *Pool) buildSet(nodes []spec.Node, version uint64) *nodeSet {
	s := &nodeSet{version: version}
	for _, n := range nodes {
		if n.Weight <= 0 {
			continue
		}
		addr := net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
		hostHeader := addr
		if p.Scheme == "https" && n.Port == 443 || p.Scheme == "http" && n.Port == 80 {
			hostHeader = strings.TrimSuffix(addr, ":"+strconv.Itoa(n.Port))
		}
		node := &Node{
			Host: n.Host, Port: n.Port, Weight: n.Weight, Addr: addr, HostHeader: hostHeader,
			Key: p.Scheme + "://" + addr + "|" + p.Timeouts.key() + "|" + strconv.FormatBool(p.TLSVerify) + p.tlsKey,
		}
		if p.checks != nil {
			node.health = p.health.node(p, node)
		}
		s.nodes = append(s.nodes, node)
	}
	s.schedule = smoothSchedule(s.nodes)
	if p.Balancer == ConsistentHash {
		s.ring = buildRing(s.nodes)
	}
	return s
}

// nodes is the pool's node set now: a discovered upstream's is rebuilt
// when its registry reported a change since.
func (p *Pool) nodes() *nodeSet {
	s := p.set.Load()
	if p.found != nil && p.found.version.Load() != s.version {
		s = p.refresh(s)
	}
	return s
}

// Nodes are the pool's nodes now.
func (p *Pool) Nodes() []*Node { return p.nodes().nodes }

// RetryBudget is how many other nodes a failed request may try: the
// upstream's retries, bounded by the other nodes there are.
func (p *Pool) RetryBudget() int {
	return max(0, min(p.retries, len(p.nodes().nodes)-1))
}

func (t Timeouts) key() string {
	return t.Connect.String() + "/" + t.Send.String() + "/" + t.Read.String() + "/" + t.Idle.String()
}

func seconds(s float64, def time.Duration) time.Duration {
	if s <= 0 {
		return def
	}
	return time.Duration(s * float64(time.Second))
}

// Next returns the node for a new request in the weighted round robin,
// or nil when no node is up.
func (p *Pool) Next() *Node {
	s := p.nodes()
	n := uint64(len(s.schedule))
	if n == 0 {
		return nil
	}
	i := p.cursor.Add(1)
	node := s.nodes[s.schedule[i%n]]
	if node.health == nil || node.health.take() {
		return node
	}
	return p.nextUp(s, i, nil)
}

// NextExcept returns a node for a retry that is none of the failed ones,
// or nil when there is none. It takes the next slot of the schedule whose
// node has not failed, so retries keep to the weights; a heavy failed node
// costs a scan of at most one cycle, never a missed retry.
func (p *Pool) NextExcept(failed ...*Node) *Node {
	s := p.nodes()
	if len(s.schedule) == 0 {
		return nil
	}
	return p.nextUp(s, p.cursor.Add(1)-1, failed)
}

// nextUp scans the schedule after slot i for a node that is up and none
// of failed.
func (p *Pool) nextUp(s *nodeSet, i uint64, failed []*Node) *Node {
	n := uint64(len(s.schedule))
	for k := range n {
		node := s.nodes[s.schedule[(i+1+k)%n]]
		if slices.Contains(failed, node) {
			continue
		}
		if node.health == nil || node.health.take() {
			return node
		}
	}
	return nil
}

// smoothSchedule unrolls nginx's smooth weighted round robin into one cycle,
// so picking a node is an atomic increment instead of a locked update. The
// sequence interleaves nodes (5,1,1 gives a a b a c a a), not bursts.
func smoothSchedule(nodes []*Node) []uint16 {
	if len(nodes) == 0 {
		return nil
	}
	weights := make([]int, len(nodes))
	total := 0
	for i, n := range nodes {
		weights[i] = n.Weight
		total += n.Weight
	}
	g := weights[0]
	for _, w := range weights[1:] {
		g = gcd(g, w)
	}
	total = 0
	for i := range weights {
		weights[i] /= g
		total += weights[i]
	}
	if total > maxSchedule {
		scaled := 0
		for i, w := range weights {
			weights[i] = max(1, w*maxSchedule/total)
			scaled += weights[i]
		}
		total = scaled
	}
	current := make([]int, len(nodes))
	out := make([]uint16, total)
	for k := range out {
		best := 0
		for i, w := range weights {
			current[i] += w
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		out[k] = uint16(best)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
