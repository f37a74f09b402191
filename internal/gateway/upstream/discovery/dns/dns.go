// Package dns resolves a service with DNS: A and AAAA records of
// "name[:port]", or the SRV records of "_service._proto.name". It asks one
// server itself, with golang.org/x/net/dns/dnsmessage, rather than through
// net.Resolver, because the gateway needs what the standard resolver hides:
// the records' TTLs (to ask again when they expire), the server the
// operator configured, and SRV weights.
package dns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

// ErrNXDomain is the error of a name the DNS says does not exist.
var ErrNXDomain = errors.New("no such name (NXDOMAIN)")

const (
	// defaultPort is the port of "name" without one: the gateway's nodes
	// speak HTTP.
	defaultPort = 80
	// udpSize is the EDNS0 payload size offered: the DNS flag day 2020
	// value, which avoids IP fragmentation; a larger answer comes over TCP.
	udpSize = 1232
	// exchangeTimeout bounds one UDP or TCP exchange; a UDP question
	// without an answer is asked once more, as packets get lost.
	exchangeTimeout = 2 * time.Second
	udpTries        = 2
)

// Resolver asks one DNS server.
type Resolver struct {
	server     string // "ip:port"; "": the first nameserver of resolvConf
	resolvConf string
}

// New checks c and builds its Resolver. The Address is the "ip:port" (or
// "ip", port 53) of a recursive DNS server; empty, the first nameserver of
// /etc/resolv.conf, read at every question so that a change is followed.
func New(c discovery.Config) (*Resolver, error) {
	r := &Resolver{resolvConf: "/etc/resolv.conf"}
	if c.Address != "" {
		s, err := serverAddr(c.Address)
		if err != nil {
			return nil, fmt.Errorf("dns: address %q: %w", c.Address, err)
		}
		r.server = s
	}
	return r, nil
}

// serverAddr accepts "ip", "ip:port" and "[ipv6]:port". The server must be
// an IP address: resolving its name would need a DNS server already.
func serverAddr(address string) (string, error) {
	host, port := address, "53"
	if h, p, err := net.SplitHostPort(address); err == nil {
		host, port = h, p
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return "", errors.New("must be the ip:port of a DNS server")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", errors.New("the port must be a number from 1 to 65535")
	}
	return net.JoinHostPort(host, port), nil
}

// Resolve returns the nodes of t.ServiceName and, as TTL, the least TTL of
// the records that gave them. DNS has no blocking queries: index and wait
// are ignored.
func (r *Resolver) Resolve(ctx context.Context, t discovery.Target, _ string, _ time.Duration) (discovery.Result, error) {
	res, err := r.resolve(ctx, t.ServiceName)
	if err != nil {
		return discovery.Result{}, fmt.Errorf("dns: service %q: %w", t.ServiceName, err)
	}
	return res, nil
}

func (r *Resolver) resolve(ctx context.Context, service string) (discovery.Result, error) {
	server := r.server
	if server == "" {
		var err error
		if server, err = firstNameserver(r.resolvConf); err != nil {
			return discovery.Result{}, err
		}
	}
	if strings.HasPrefix(service, "_") {
		return r.resolveSRV(ctx, server, service)
	}
	host, port, err := splitService(service)
	if err != nil {
		return discovery.Result{}, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		// An address needs no question.
		return discovery.Result{Nodes: []spec.Node{{Host: a.String(), Port: port, Weight: spec.DefaultNodeWeight}}}, nil
	}
	var nodes []spec.Node
	var ttl ttlMin
	for _, typ := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		records, err := r.lookup(ctx, server, host, typ, &ttl)
		if err != nil {
			return discovery.Result{}, err
		}
		for _, rec := range records {
			var a netip.Addr
			switch b := rec.Body.(type) {
			case *dnsmessage.AResource:
				a = netip.AddrFrom4(b.A)
			case *dnsmessage.AAAAResource:
				a = netip.AddrFrom16(b.AAAA)
			}
			nodes = append(nodes, spec.Node{Host: a.String(), Port: port, Weight: spec.DefaultNodeWeight})
		}
	}
	return discovery.Result{Nodes: discovery.SortNodes(nodes), TTL: ttl.duration()}, nil
}

// resolveSRV reads the SRV records of name and keeps those of the lowest
// priority: RFC 2782 sends to a higher one only when every target of the
// lowest is unreachable, which the gateway's retries on another node of the
// same priority cover. A weight of 0 becomes 1 (0 means "rarely", not
// "never"); a target of "." says the service is not offered there.
func (r *Resolver) resolveSRV(ctx context.Context, server, name string) (discovery.Result, error) {
	var ttl ttlMin
	records, err := r.lookup(ctx, server, name, dnsmessage.TypeSRV, &ttl)
	if err != nil {
		return discovery.Result{}, err
	}
	var srvs []*dnsmessage.SRVResource
	for _, rec := range records {
		if s, ok := rec.Body.(*dnsmessage.SRVResource); ok && s.Target.String() != "." {
			srvs = append(srvs, s)
		}
	}
	nodes := []spec.Node{}
	if len(srvs) > 0 {
		lowest := slices.MinFunc(srvs, func(a, b *dnsmessage.SRVResource) int { return int(a.Priority) - int(b.Priority) }).Priority
		for _, s := range srvs {
			if s.Priority == lowest {
				nodes = append(nodes, spec.Node{Host: s.Target.String(), Port: int(s.Port), Weight: max(int(s.Weight), 1)})
			}
		}
	}
	return discovery.Result{Nodes: discovery.SortNodes(nodes), TTL: ttl.duration()}, nil
}

// splitService splits "name[:port]" (port default 80) and checks the name
// as DNS would: at most 253 bytes, labels of 1 to 63.
func splitService(service string) (string, int, error) {
	host, port := service, defaultPort
	// SplitHostPort fails on "name" and "::1" alone, which have no port.
	if h, p, err := net.SplitHostPort(service); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("port %q must be a number from 1 to 65535", p)
		}
		host, port = h, n
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return host, port, nil
	}
	if err := checkName(host); err != nil {
		return "", 0, err
	}
	return host, port, nil
}

func checkName(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" || len(n) > 253 {
		return fmt.Errorf("%q is not a DNS name", name)
	}
	for label := range strings.SplitSeq(n, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a DNS name", name)
		}
	}
	return nil
}

// ttlMin is the least TTL of the records an answer used.
type ttlMin struct {
	v   uint32
	set bool
}

func (t *ttlMin) add(v uint32) {
	if !t.set || v < t.v {
		t.v, t.set = v, true
	}
}

// duration is the TTL for Result.TTL: 0 (the poll interval) when no record
// gave one.
func (t *ttlMin) duration() time.Duration {
	if !t.set {
		return 0
	}
	return time.Duration(t.v) * time.Second
}

// lookup asks server for the records of type typ of name and returns those
// of name or of the names its CNAMEs lead to, adding their TTLs to ttl. An
// answer without such records (a name with only IPv4 addresses asked for
// AAAA) is empty; its TTL is the negative-caching TTL of the zone's SOA
// (RFC 2308), so that a record added later is seen as soon as resolvers do.
func (r *Resolver) lookup(ctx context.Context, server, name string, typ dnsmessage.Type, ttl *ttlMin) ([]dnsmessage.Resource, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	fqdn := strings.ToLower(strings.TrimSuffix(name, ".") + ".")
	m, err := exchange(ctx, server, fqdn, typ)
	if err != nil {
		return nil, err
	}
	return answerRecords(m, fqdn, typ, ttl)
}

// answerRecords is lookup's reading of an answer m to the question fqdn, typ.
func answerRecords(m *dnsmessage.Message, fqdn string, typ dnsmessage.Type, ttl *ttlMin) ([]dnsmessage.Resource, error) {
	switch m.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return nil, fmt.Errorf("%s: %w", strings.TrimSuffix(fqdn, "."), ErrNXDomain)
	default:
		return nil, fmt.Errorf("%s %s: the server answered %s", strings.TrimSuffix(fqdn, "."), typeName(typ), m.RCode)
	}
	// The names the answer is about: the one asked for and, in any order,
	// the targets of the CNAMEs that start from one of them.
	names := map[string]bool{fqdn: true}
	for grew := true; grew; {
		grew = false
		for _, a := range m.Answers {
			c, ok := a.Body.(*dnsmessage.CNAMEResource)
			if !ok || !names[strings.ToLower(a.Header.Name.String())] {
				continue
			}
			if target := strings.ToLower(c.CNAME.String()); !names[target] {
				names[target], grew = true, true
				ttl.add(a.Header.TTL)
			}
		}
	}
	var out []dnsmessage.Resource
	for _, a := range m.Answers {
		if a.Header.Type == typ && a.Header.Class == dnsmessage.ClassINET && names[strings.ToLower(a.Header.Name.String())] {
			out = append(out, a)
			ttl.add(a.Header.TTL)
		}
	}
	if len(out) == 0 {
		for _, a := range m.Authorities {
			if soa, ok := a.Body.(*dnsmessage.SOAResource); ok {
				ttl.add(min(a.Header.TTL, soa.MinTTL))
			}
		}
	}
	return out, nil
}

func typeName(t dnsmessage.Type) string {
	return strings.TrimPrefix(t.String(), "Type")
}

// exchange sends one question to server over UDP and, when the answer is
// truncated, again over TCP.
func exchange(ctx context.Context, server, fqdn string, typ dnsmessage.Type) (*dnsmessage.Message, error) {
	n, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, fmt.Errorf("%q is not a DNS name: %w", fqdn, err)
	}
	q := dnsmessage.Question{Name: n, Type: typ, Class: dnsmessage.ClassINET}
	var m *dnsmessage.Message
	for try := range udpTries {
		m, err = exchangeUDP(ctx, server, q)
		var ne net.Error
		if err == nil || ctx.Err() != nil || !errors.As(err, &ne) || !ne.Timeout() || try == udpTries-1 {
			break
		}
	}
	if err == nil && m.Truncated {
		m, err = exchangeTCP(ctx, server, q)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("asking %s for %s %s: %w", server, strings.TrimSuffix(fqdn, "."), typeName(typ), err)
	}
	return m, nil
}

// query packs a question with a fresh random ID (against forged answers)
// and an EDNS0 record offering udpSize.
func query(q dnsmessage.Question) (uint16, []byte, error) {
	id := uint16(rand.Uint32())
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(udpSize, dnsmessage.RCodeSuccess, false); err != nil {
		return 0, nil, err
	}
	m := dnsmessage.Message{
		Header:      dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions:   []dnsmessage.Question{q},
		Additionals: []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}},
	}
	b, err := m.Pack()
	return id, b, err
}

// dial connects to server within exchangeTimeout and makes the connection
// end its reads and writes when ctx does.
func dial(ctx context.Context, network, server string) (net.Conn, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return conn, func() { stop(); cancel(); conn.Close() }, nil
}

func exchangeUDP(ctx context.Context, server string, q dnsmessage.Question) (*dnsmessage.Message, error) {
	id, b, err := query(q)
	if err != nil {
		return nil, err
	}
	conn, done, err := dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer done()
	if _, err := conn.Write(b); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		// On a connected UDP socket, a server that is not there shows as
		// "connection refused" here, at once.
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		var m dnsmessage.Message
		if m.Unpack(buf[:n]) == nil && answers(&m, id, q) {
			return &m, nil
		}
		// Not the answer to this question (a late answer to an earlier
		// one, or a forgery): keep waiting for the real one.
	}
}

func exchangeTCP(ctx context.Context, server string, q dnsmessage.Question) (*dnsmessage.Message, error) {
	id, b, err := query(q)
	if err != nil {
		return nil, err
	}
	conn, done, err := dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer done()
	// Over TCP a message is preceded by its length (RFC 1035, 4.2.2).
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		return nil, err
	}
	r := bufio.NewReader(conn)
	var size [2]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(size[:]))
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf); err != nil {
		return nil, fmt.Errorf("parsing the answer: %w", err)
	}
	if !answers(&m, id, q) {
		return nil, errors.New("the answer over TCP is not to the question asked")
	}
	return &m, nil
}

// answers reports whether m is the answer to question q sent with id.
func answers(m *dnsmessage.Message, id uint16, q dnsmessage.Question) bool {
	return m.Response && m.ID == id && len(m.Questions) == 1 && m.Questions[0].Type == q.Type &&
		m.Questions[0].Class == q.Class && strings.EqualFold(m.Questions[0].Name.String(), q.Name.String())
}

// firstNameserver reads the first "nameserver" line of a resolv.conf.
func firstNameserver(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("no DNS server configured and %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				return net.JoinHostPort(a.String(), "53"), nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return "", fmt.Errorf("no DNS server configured and no nameserver in %s", path)
}
