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
type Timeouts struct {
	Connect, Send, Read time.Duration
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
}

// The engines' slots in Node.Clients.
const (
	ClientFast = iota
	ClientNetHTTP
	clientSlots
)

// Pool is a compiled upstream. Immutable but for the round-robin cursor.
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
	// Retries is how many other nodes a request that could not connect may
	// try, already bounded by the node count.
	Retries  int
	Nodes    []*Node
	schedule []uint16
	cursor   atomic.Uint64
	// Balancer is RoundRobin, LeastConn or ConsistentHash (balance.go);
	// a consistent hash takes its key as hashKind and hashName say and
	// finds the node on ring.
	Balancer           int
	hashKind, hashName string
	ring               []ringPoint
}

// New compiles u. Nodes with weight 0 are kept out of the schedule: weight 0
// is how an operator drains a node.
func New(u *spec.Upstream) *Pool { return NewTLS(u, nil) }

// NewTLS compiles u, presenting client to an https upstream that asks for
// a certificate (u.TLS.ClientCertificate, resolved by the caller; nil:
// none).
func NewTLS(u *spec.Upstream, client *tls.Certificate) *Pool {
	p := &Pool{Scheme: u.Scheme, PassHost: u.PassHost, UpstreamHost: u.UpstreamHost, TLSVerify: true}
	if u.TLSVerify != nil {
		p.TLSVerify = *u.TLSVerify
	}
	p.setTLS(u.TLS, client)
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
	p.Timeouts = Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Read: DefaultReadTimeout}
	if t := u.Timeout; t != nil {
		p.Timeouts.Connect = seconds(t.Connect, p.Timeouts.Connect)
		p.Timeouts.Send = seconds(t.Send, p.Timeouts.Send)
		p.Timeouts.Read = seconds(t.Read, p.Timeouts.Read)
	}
	for _, n := range nodes {
		if n.Weight <= 0 {
			continue
		}
		addr := net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
		hostHeader := addr
		if p.Scheme == "https" && n.Port == 443 || p.Scheme == "http" && n.Port == 80 {
			hostHeader = strings.TrimSuffix(addr, ":"+strconv.Itoa(n.Port))
		}
		p.Nodes = append(p.Nodes, &Node{
			Host: n.Host, Port: n.Port, Weight: n.Weight, Addr: addr, HostHeader: hostHeader,
			Key: p.Scheme + "://" + addr + "|" + p.Timeouts.key() + "|" + strconv.FormatBool(p.TLSVerify) + p.tlsKey,
		})
	}
	p.Retries = 1
	if u.Retries != nil {
		p.Retries = *u.Retries
	}
	p.Retries = max(0, min(p.Retries, len(p.Nodes)-1))
	p.schedule = smoothSchedule(p.Nodes)
	switch u.LoadBalancer {
	case "least_conn":
		p.Balancer = LeastConn
	case "ewma":
		p.Balancer = EWMA
	case "chash":
		p.Balancer = ConsistentHash
		p.hashKind, p.hashName, _ = spec.ParseUpstreamHashOn(u.HashOn) // checked by spec; "": the client's address
		p.ring = buildRing(p.Nodes)
	}
	// Gateways that start together should not all hit the first node first.
	if len(p.schedule) > 0 {
		p.cursor.Store(uint64(rand.IntN(len(p.schedule))))
	}
	return p
}

func (t Timeouts) key() string {
	return t.Connect.String() + "/" + t.Send.String() + "/" + t.Read.String()
}

func seconds(s float64, def time.Duration) time.Duration {
	if s <= 0 {
		return def
	}
	return time.Duration(s * float64(time.Second))
}

// Next returns the node for a new request, or nil when the pool is empty.
func (p *Pool) Next() *Node {
	if len(p.schedule) == 0 {
		return nil
	}
	i := p.cursor.Add(1)
	return p.Nodes[p.schedule[i%uint64(len(p.schedule))]]
}

// NextExcept returns a node for a retry that is none of the failed ones,
// or nil when there is none. It takes the next slot of the schedule whose
// node has not failed, so retries keep to the weights; a heavy failed node
// costs a scan of at most one cycle, never a missed retry.
func (p *Pool) NextExcept(failed ...*Node) *Node {
	n := uint64(len(p.schedule))
	if n == 0 {
		return nil
	}
	start := p.cursor.Add(1)
	for k := range n {
		node := p.Nodes[p.schedule[(start+k)%n]]
		if !slices.Contains(failed, node) {
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
