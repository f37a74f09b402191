package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
)

// streamServer starts a server with one stream listener per name, each on
// a port the OS picks, and checks the ready file names them all.
func streamServer(t *testing.T, listeners ...string) *server {
	t.Helper()
	var extra []string
	for _, name := range listeners {
		extra = append(extra, "--gateway-stream-addr", name+"=127.0.0.1:0")
	}
	s := startServer(t, t.TempDir(), extra...)
	for _, name := range listeners {
		if _, port, err := net.SplitHostPort(s.Streams[name]); err != nil || port == "0" {
			t.Fatalf("the ready file names stream listener %q as %q (all: %v)", name, s.Streams[name], s.Streams)
		}
	}
	return s
}

// tcpUpstream is a publish's upstream of one node at 127.0.0.1:port.
func tcpUpstream(port int) string {
	return fmt.Sprintf(`{"scheme":"tcp","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}`, port)
}

// createProject creates project id on the default group.
func (s *server) createProject(t *testing.T, id string) {
	t.Helper()
	s.do(t, "POST", "/api/v1/projects", fmt.Sprintf(`{"id":%q,"name":%q}`, id, id), 201, nil)
}

// publishStream creates a service in project from its JSON, publishes it
// to the default group with upstream and waits until the embedded gateway
// serves that revision. It answers the service's admin path.
func (s *server) publishStream(t *testing.T, project, service, version, upstream string) string {
	t.Helper()
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/"+project+"/services", service, 201, &svc)
	base := "/api/v1/projects/" + project + "/services/" + svc.ID
	s.publishVersion(t, base, version, upstream)
	return base
}

// publishVersion publishes the service at base and waits until the
// embedded gateway serves the group's new revision.
func (s *server) publishVersion(t *testing.T, base, version, upstream string) {
	t.Helper()
	var pub struct{ Revision int64 }
	s.do(t, "POST", base+"/publish", fmt.Sprintf(`{"group":"default","version":%q,"upstream":%s}`, version, upstream), 201, &pub)
	if pub.Revision == 0 {
		t.Fatalf("publish %s %s answered no revision", base, version)
	}
	s.waitApplied(t, pub.Revision)
}

// streamDial connects to a stream listener; every read and write of the
// connection must be done within 5 s.
func streamDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial stream listener %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// respCommand is a Redis command as a RESP array of bulk strings.
func respCommand(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// respReply reads one Redis reply: a status, error or integer line as
// is ("+PONG", ":1"), a bulk string as its content ("$-1" when nil).
func respReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return line, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if !strings.HasPrefix(line, "$") || line == "$-1" {
		return line, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		return line, err
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// metricSum reads the status address's /metrics and sums the samples of
// name whose labels include every one of want.
func metricSum(t *testing.T, s *server, name string, want map[string]string) (float64, bool) {
	t.Helper()
	_, _, body, err := get(t.Context(), s.Status+"/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", s.Status, err)
	}
	var sum float64
	found := false
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		have := map[string]string{}
		for pair := range strings.SplitSeq(labels, ",") { // no label value here holds a comma
			k, v, _ := strings.Cut(pair, "=")
			have[k], _ = strconv.Unquote(v)
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		sum, found = sum+f, true
	}
	return sum, found
}

// waitMetric polls /metrics until the sum of name's samples with labels
// want satisfies cond, at most 10 s.
func waitMetric(t *testing.T, s *server, name string, want map[string]string, cond func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := metricSum(t, s, name, want)
		if ok && cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics: %s%v is %v (present: %v) after 10 s", name, want, v, ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamRedisThroughTheGateway: a stream service whose upstream is
// the machine's Redis (scheme tcp), published through the admin API, is
// reached by a raw TCP client on the gateway's stream listener: PING,
// SET, GET and DEL answer as Redis does, the key is in the real Redis,
// and the connection's outcome and bytes are on /metrics.
func TestStreamRedisThroughTheGateway(t *testing.T) {
	direct := needRedis(t, sharedRedis)
	prefix := testPrefix(t, direct)
	s := streamServer(t, "redis")
	s.createProject(t, "stream-redis")
	s.publishStream(t, "stream-redis", `{"name":"cache","type":"stream","stream_routes":[{"name":"all","listener":"redis"}]}`,
		"1.0.0", tcpUpstream(6379))

	c := streamDial(t, s.Streams["redis"])
	r := bufio.NewReader(c)
	key, value := prefix+"through-gateway", "value "+prefix
	sent := 0
	for _, step := range []struct{ send, want string }{
		{"PING\r\n", "+PONG"},
		{respCommand("SET", key, value), "+OK"},
		{respCommand("GET", key), value},
	} {
		if _, err := io.WriteString(c, step.send); err != nil {
			t.Fatalf("send %q: %v", step.send, err)
		}
		sent += len(step.send)
		if got, err := respReply(r); err != nil || got != step.want {
			t.Fatalf("%q through the gateway: %q, %v; want %q", step.send, got, err, step.want)
		}
	}
	// The key is in the Redis the service names, not anywhere else.
	if got, err := direct.Get(t.Context(), key).Result(); err != nil || got != value {
		t.Errorf("Redis itself has %s = %q, %v; want %q", key, got, err, value)
	}
	del := respCommand("DEL", key)
	if _, err := io.WriteString(c, del); err != nil {
		t.Fatal(err)
	}
	sent += len(del)
	if got, err := respReply(r); err != nil || got != ":1" {
		t.Fatalf("DEL through the gateway: %q, %v; want :1", got, err)
	}
	if n, err := direct.Exists(t.Context(), key).Result(); err != nil || n != 0 {
		t.Errorf("after DEL Redis still has %s (%d, %v)", key, n, err)
	}

	labels := map[string]string{"listener": "redis", "group": "default", "service": "cache", "route": "all"}
	waitMetric(t, s, "portico_stream_active_connections", labels, func(v float64) bool { return v == 1 })
	c.Close() // Redis closes its end on the half-close; the relay ends
	waitMetric(t, s, "portico_stream_active_connections", labels, func(v float64) bool { return v == 0 })
	proxied := map[string]string{"listener": "redis", "service": "cache", "route": "all", "result": "proxied"}
	if v, _ := metricSum(t, s, "portico_stream_connections_total", proxied); v != 1 {
		t.Errorf("portico_stream_connections_total%v = %v, want 1", proxied, v)
	}
	received := map[string]string{"listener": "redis", "service": "cache", "route": "all", "direction": "received"}
	if v, _ := metricSum(t, s, "portico_stream_bytes_total", received); v != float64(sent) {
		t.Errorf("portico_stream_bytes_total%v = %v, want the %d bytes sent", received, v, sent)
	}
}

// tlsNameBackend is a TLS server with its own certificate: it answers a
// line with "NAME SNI LINE", the server name it was asked for included.
func tlsNameBackend(t *testing.T, name string, pair certtest.Pair) int {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair.TLS(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				tc := c.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					return
				}
				line, err := bufio.NewReader(tc).ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(tc, "%s %s %s", name, tc.ConnectionState().ServerName, line)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestStreamTLSPassthroughBySNI: two stream services with tls passthrough
// share a listener, each claiming one server name. A TLS client asking
// for a.stream.test reaches backend A and verifies A's own certificate
// against the private CA (the group holds no certificate: the gateway
// cannot have terminated), likewise B; a name no route claims is closed.
func TestStreamTLSPassthroughBySNI(t *testing.T) {
	ca := certtest.NewCA(t)
	pairs := map[string]certtest.Pair{"a": ca.Issue(t, "a.stream.test"), "b": ca.Issue(t, "b.stream.test")}
	s := streamServer(t, "tls")
	s.createProject(t, "stream-sni")
	for _, n := range []string{"a", "b"} {
		port := tlsNameBackend(t, strings.ToUpper(n), pairs[n])
		s.publishStream(t, "stream-sni", fmt.Sprintf(
			`{"name":"backend-%s","type":"stream","stream_routes":[{"name":"by-sni","listener":"tls","tls":"passthrough","sni":["%s.stream.test"]}]}`, n, n),
			"1.0.0", tcpUpstream(port))
	}

	for _, n := range []string{"a", "b", "a"} {
		name := n + ".stream.test"
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Streams["tls"],
			&tls.Config{RootCAs: ca.Pool(), ServerName: name})
		if err != nil {
			t.Fatalf("TLS to the gateway's stream listener as %s: %v", name, err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if leaf := c.ConnectionState().PeerCertificates[0]; !leaf.Equal(pairs[n].Leaf) {
			t.Errorf("as %s the handshake showed the certificate of %v, want backend %s's own", name, leaf.DNSNames, n)
		}
		fmt.Fprintf(c, "hello %s\n", n)
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if want := fmt.Sprintf("%s %s hello %s\n", strings.ToUpper(n), name, n); err != nil || line != want {
			t.Errorf("as %s: %q, %v; want %q", name, line, err, want)
		}
	}

	// No route claims c.stream.test and the listener has no default.
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Streams["tls"],
		&tls.Config{RootCAs: ca.Pool(), ServerName: "c.stream.test", InsecureSkipVerify: true})
	if err == nil {
		c.Close()
		t.Fatalf("a name no route claims completed a handshake with %v", c.ConnectionState().PeerCertificates[0].DNSNames)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a name no route claims: %v, want the connection closed", err)
	}
	waitMetric(t, s, "portico_stream_connections_total", map[string]string{"listener": "tls", "result": "no_route"},
		func(v float64) bool { return v == 1 })
	for _, n := range []string{"a", "b"} {
		want := map[string]string{"listener": "tls", "service": "backend-" + n, "route": "by-sni", "result": "proxied"}
		if v, _ := metricSum(t, s, "portico_stream_connections_total", want); v != map[string]float64{"a": 2, "b": 1}[n] {
			t.Errorf("portico_stream_connections_total%v = %v", want, v)
		}
	}
}

// countingEcho is a TCP backend that echoes each connection and counts
// the connections it accepted.
func countingEcho(t *testing.T) (int, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, &accepted
}

// TestStreamIPRestrictionRefuses: a plain stream route first relays to
// its echo backend; once a new version denies 127.0.0.0/8 with
// ip-restriction, a connection from loopback is closed without reaching
// the backend, and /metrics counts it as forbidden.
func TestStreamIPRestrictionRefuses(t *testing.T) {
	port, accepted := countingEcho(t)
	s := streamServer(t, "guarded")
	s.createProject(t, "stream-deny")
	base := s.publishStream(t, "stream-deny", `{"name":"echo","type":"stream","stream_routes":[{"name":"main","listener":"guarded"}]}`,
		"1.0.0", tcpUpstream(port))

	c := streamDial(t, s.Streams["guarded"])
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("before the restriction the echo answered %q, %v", line, err)
	}
	c.Close()
	if n := accepted.Load(); n != 1 {
		t.Fatalf("the backend accepted %d connections, want 1", n)
	}

	s.do(t, "PATCH", base, `{"stream_routes":[{"name":"main","listener":"guarded","plugins":{"ip-restriction":{"deny":["127.0.0.0/8"]}}}]}`, 200, nil)
	s.publishVersion(t, base, "1.0.1", tcpUpstream(port))
	c = streamDial(t, s.Streams["guarded"])
	_, _ = io.WriteString(c, "ping\n") // may fail: the gateway may have closed already
	b, err := io.ReadAll(c)
	if len(b) > 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a denied client read %q, %v; want the connection closed at once", b, err)
	}
	forbidden := map[string]string{"listener": "guarded", "group": "default", "service": "echo", "route": "main", "result": "forbidden"}
	waitMetric(t, s, "portico_stream_connections_total", forbidden, func(v float64) bool { return v == 1 })
	if n := accepted.Load(); n != 1 {
		t.Errorf("the backend accepted %d connections, want only the one before the restriction", n)
	}
}

// adminProblem calls the admin API and answers the status and the
// problem+json it got.
type adminProblem struct {
	Status    int
	Detail    string
	Errors    []struct{ Field, Message string }
	Conflicts []struct {
		Path, Method, Service, Route string
		OtherService                 string `json:"other_service"`
		OtherRoute                   string `json:"other_route"`
	}
}

func (s *server) problem(t *testing.T, method, path, body string, want int) adminProblem {
	t.Helper()
	req, err := http.NewRequest(method, s.Admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p adminProblem
	if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || json.Unmarshal(b, &p) != nil {
		t.Fatalf("%s %s: %d %s %s; want %d problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), b, want)
	}
	return p
}

// fields are the fields a problem names.
func (p adminProblem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// TestStreamAdminRefusals: the admin API refuses what a stream service
// cannot be with a 400 naming the field (an HTTP route under it, a path,
// server names without TLS), and a second service taking a listener's
// default route in the same group with a 409 naming the collision; a
// route by server name on that listener does not collide.
func TestStreamAdminRefusals(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.createProject(t, "stream-admin")
	services := "/api/v1/projects/stream-admin/services"
	var svc struct{ ID string }
	s.do(t, "POST", services, `{"name":"kv","type":"stream","stream_routes":[{"name":"main","listener":"kv"}]}`, 201, &svc)
	kv := services + "/" + svc.ID

	for _, c := range []struct{ what, path, body, field string }{
		{"an HTTP route under a stream service", kv + "/routes", `{"name":"r","paths":["/x"]}`, "type"},
		{"a stream service with a path", services,
			`{"name":"with-path","type":"stream","path":"/x","stream_routes":[{"name":"main","listener":"other"}]}`, "path"},
		{"server names without tls", services,
			`{"name":"no-tls","type":"stream","stream_routes":[{"name":"main","listener":"other","sni":["a.stream.test"]}]}`, "stream_routes[0].sni"},
	} {
		p := s.problem(t, "POST", c.path, c.body, 400)
		if fields := p.fields(); len(fields) != 1 || fields[0] != c.field {
			t.Errorf("%s: the problem names %v, want [%s]: %+v", c.what, fields, c.field, p)
		}
	}

	s.do(t, "POST", kv+"/publish", `{"group":"default","version":"1.0.0","upstream":`+tcpUpstream(6379)+`}`, 201, nil)
	s.do(t, "POST", services, `{"name":"kv-too","type":"stream","stream_routes":[{"name":"main","listener":"kv"}]}`, 201, &svc)
	p := s.problem(t, "POST", services+"/"+svc.ID+"/publish", `{"group":"default","version":"1.0.0","upstream":`+tcpUpstream(6380)+`}`, 409)
	if len(p.Conflicts) != 1 || p.Conflicts[0].Service != "kv-too" || p.Conflicts[0].OtherService != "kv" || p.Conflicts[0].OtherRoute != "main" {
		t.Errorf("the second default route of listener kv: %+v, want one conflict with kv's route main", p)
	}
	b := s.do(t, "GET", "/api/v1/gateway-groups/default/services", "", 200, nil)
	if strings.Contains(string(b), "kv-too") {
		t.Errorf("after the 409 the group runs kv-too: %s", b)
	}

	// A route by server name on the same listener is picked before the
	// default: both are served, no collision.
	s.do(t, "POST", services, `{"name":"kv-tls","type":"stream","stream_routes":[{"name":"main","listener":"kv","tls":"passthrough","sni":["kv.stream.test"]}]}`, 201, &svc)
	s.do(t, "POST", services+"/"+svc.ID+"/publish", `{"group":"default","version":"1.0.0","upstream":`+tcpUpstream(6381)+`}`, 201, nil)
}
