package dns

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// key is a question the test server knows the answer to.
type key struct {
	name string // lower case, with the final dot
	typ  dnsmessage.Type
}

// testServer is a DNS server on 127.0.0.1 answering over UDP and TCP on the
// same port from a table the test edits: the answers of a question, the
// names that do not exist, and the SOA whose TTLs bound negative caching.
type testServer struct {
	t    *testing.T
	port int

	mu       sync.Mutex
	answers  map[key][]dnsmessage.Resource
	nxdomain map[string]bool
	rcode    dnsmessage.RCode // when not success, the answer to everything
	soaTTL   uint32           // negative TTL of NODATA answers; 0: no SOA
	truncate bool             // UDP answers are empty with TC set
	forge    bool             // a UDP answer is preceded by one with a wrong ID
	udpCount int

	udp *net.UDPConn
	tcp net.Listener
	wg  sync.WaitGroup
}

func newTestServer(t *testing.T) *testServer {
	s := &testServer{t: t, answers: map[key][]dnsmessage.Resource{}, nxdomain: map[string]bool{}}
	// The TCP listener needs the UDP socket's port; another program may
	// hold it, so try a few.
	var err error
	for range 10 {
		if s.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		s.port = s.udp.LocalAddr().(*net.UDPAddr).Port
		if s.tcp, err = net.Listen("tcp", s.addr()); err == nil {
			break
		}
		s.udp.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	s.serve()
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

func (s *testServer) serve() {
	udp, tcp := s.udp, s.tcp
	s.wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := udp.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.udpCount++
			forge := s.forge
			s.mu.Unlock()
			resp := s.answer(buf[:n], true)
			if forge && len(resp) > 2 {
				bad := append([]byte{resp[0] ^ 0xff, resp[1]}, resp[2:]...)
				udp.WriteToUDP(bad, from)
			}
			udp.WriteToUDP(resp, from)
		}
	})
	s.wg.Go(func() {
		for {
			conn, err := tcp.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() {
				defer conn.Close()
				var size [2]byte
				if _, err := io.ReadFull(conn, size[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(size[:]))
				if _, err := io.ReadFull(conn, msg); err != nil {
					return
				}
				resp := s.answer(msg, false)
				conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
			})
		}
	})
}

// stop closes both sockets: the server goes away.
func (s *testServer) stop() {
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

// restart listens again on the old port.
func (s *testServer) restart() {
	var err error
	if s.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port}); err != nil {
		s.t.Fatal(err)
	}
	if s.tcp, err = net.Listen("tcp", s.addr()); err != nil {
		s.t.Fatal(err)
	}
	s.serve()
}

// answer builds the server's answer to the query msg.
func (s *testServer) answer(msg []byte, udp bool) []byte {
	var q dnsmessage.Message
	if err := q.Unpack(msg); err != nil || len(q.Questions) != 1 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	question := q.Questions[0]
	k := key{strings.ToLower(question.Name.String()), question.Type}
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RecursionDesired: q.RecursionDesired, RecursionAvailable: true},
		Questions: q.Questions,
	}
	switch {
	case s.rcode != dnsmessage.RCodeSuccess:
		resp.RCode = s.rcode
	case s.nxdomain[k.name]:
		resp.RCode = dnsmessage.RCodeNameError
	case udp && s.truncate:
		resp.Truncated = true
	default:
		resp.Answers = s.answers[k]
		if len(resp.Answers) == 0 && s.soaTTL != 0 {
			resp.Authorities = []dnsmessage.Resource{soa(s.soaTTL)}
		}
	}
	b, err := resp.Pack()
	if err != nil {
		s.t.Errorf("packing the answer: %v", err)
	}
	return b
}

// set replaces the answers to the question name, typ.
func (s *testServer) set(name string, typ dnsmessage.Type, records ...dnsmessage.Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[key{name, typ}] = records
}

func (s *testServer) edit(f func(s *testServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func header(name string, typ dnsmessage.Type, ttl uint32) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET, TTL: ttl}
}

func a(name, ip string, ttl uint32) dnsmessage.Resource {
	return dnsmessage.Resource{Header: header(name, dnsmessage.TypeA, ttl), Body: &dnsmessage.AResource{A: netip.MustParseAddr(ip).As4()}}
}

func aaaa(name, ip string, ttl uint32) dnsmessage.Resource {
	return dnsmessage.Resource{Header: header(name, dnsmessage.TypeAAAA, ttl), Body: &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(ip).As16()}}
}

func cname(name, target string, ttl uint32) dnsmessage.Resource {
	return dnsmessage.Resource{Header: header(name, dnsmessage.TypeCNAME, ttl), Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)}}
}

func srv(name string, priority, weight, port uint16, target string, ttl uint32) dnsmessage.Resource {
	return dnsmessage.Resource{Header: header(name, dnsmessage.TypeSRV, ttl),
		Body: &dnsmessage.SRVResource{Priority: priority, Weight: weight, Port: port, Target: dnsmessage.MustNewName(target)}}
}

func soa(ttl uint32) dnsmessage.Resource {
	return dnsmessage.Resource{Header: header("test.", dnsmessage.TypeSOA, 3600), Body: &dnsmessage.SOAResource{
		NS: dnsmessage.MustNewName("ns.test."), MBox: dnsmessage.MustNewName("admin.test."),
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: ttl}}
}
