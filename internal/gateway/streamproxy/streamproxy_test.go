package streamproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// results records what the server reports of each connection, so tests
// wait on outcomes instead of sleeping.
type results struct{ c chan string }

func newResults() *results { return &results{c: make(chan string, 64)} }

func (r *results) Refused(_ string, rt *routing.StreamRoute, result string) {
	name := "-"
	if rt != nil {
		name = rt.Name
	}
	r.c <- name + " " + result
}
func (r *results) Opened(rt *routing.StreamRoute)             { r.c <- rt.Name + " " + ResultProxied }
func (r *results) Closed(rt *routing.StreamRoute, _, _ int64) { r.c <- rt.Name + " closed" }

func (r *results) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.c:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no connection outcome within 10s")
		return ""
	}
}

func (r *results) expect(t *testing.T, want string) {
	t.Helper()
	if got := r.next(t); got != want {
		t.Fatalf("outcome %q, want %q", got, want)
	}
}

// stream is a stream service of one group, its routes given as JSON.
func stream(t *testing.T, name, upstreamJSON, routesJSON string) spec.DeployedService {
	t.Helper()
	ds := spec.DeployedService{ProjectID: "p", Version: "1", Service: spec.Service{ID: name + "-id", Name: name, Type: spec.ServiceStream}}
	if err := json.Unmarshal([]byte(upstreamJSON), &ds.Upstream); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(routesJSON), &ds.Service.StreamRoutes); err != nil {
		t.Fatal(err)
	}
	if err := ds.Service.Validate(); err != nil {
		t.Fatal(err)
	}
	return ds
}

func nodes(addrs ...string) string {
	var parts []string
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		parts = append(parts, `{"host":"`+host+`","port":`+port+`}`)
	}
	return `"nodes":[` + strings.Join(parts, ",") + `]`
}

// gateway serves listener "l" of a table built from the services.
type gateway struct {
	addr    string
	results *results
	table   *atomic.Pointer[routing.Table]
	srv     *Server
}

func serve(t *testing.T, certs []spec.Certificate, services ...spec.DeployedService) *gateway {
	t.Helper()
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{Group: spec.GatewayGroup{Name: "g"},
		Services: services, Certificates: certs}}}
	tbl, err := routing.Build(snap, routing.Deps{StreamConns: &routing.StreamConns{}})
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{results: newResults(), table: new(atomic.Pointer[routing.Table])}
	g.table.Store(tbl)
	terminate := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return g.table.Load().Certificate(h)
	}}
	g.srv = &Server{Name: "l", Table: g.table, Terminate: terminate, Observer: g.results, HelloTimeout: 2 * time.Second}
	ln := listen(t)
	g.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- g.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return g
}

// tcpBackend serves each connection with handle, then closes it; it
// answers its address.
func tcpBackend(t *testing.T, ln net.Listener, handle func(net.Conn)) string {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// listen is a fresh loopback listener.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// backend is a TCP server: it answers the first line it reads, prefixed
// with its name; TLS when cert is set.
func backend(t *testing.T, name string, cert *tls.Certificate) string {
	t.Helper()
	ln := listen(t)
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	return tcpBackend(t, ln, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		_, _ = io.WriteString(c, name+":"+line)
	})
}

func ask(t *testing.T, c net.Conn, line string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v (got %q)", err, got)
	}
	return strings.TrimSpace(string(got))
}

func dialPlain(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPlainRelay(t *testing.T) {
	up := backend(t, "plain", nil)
	g := serve(t, nil, stream(t, "s", `{`+nodes(up)+`}`, `[{"name":"r","listener":"l"}]`))
	if got := ask(t, dialPlain(t, g.addr), "PING"); got != "plain:PING" {
		t.Fatalf("answer %q", got)
	}
	g.results.expect(t, "r proxied")
	g.results.expect(t, "r closed")
}

// A client that says nothing first still reaches a plain route at once:
// its server may speak first (MySQL, SMTP).
func TestPlainServerSpeaksFirst(t *testing.T) {
	up := tcpBackend(t, listen(t), func(c net.Conn) { _, _ = io.WriteString(c, "220 ready\n") })
	g := serve(t, nil, stream(t, "s", `{`+nodes(up)+`}`, `[{"name":"r","listener":"l"}]`))
	c := dialPlain(t, g.addr)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "220 ready\n" {
		t.Fatalf("greeting %q, %v", line, err)
	}
}

// Passthrough routes by the server name of the ClientHello: exact, then
// wildcard, then the listener's default; the backend's own certificate
// reaches the client untouched.
func TestPassthroughBySNI(t *testing.T) {
	ca := certtest.NewCA(t)
	names := map[string][]string{"a": {"a.test"}, "b": {"b.test"}, "wild": {"*.w.test"}, "exact": {"x.w.test"}, "def": {"default.test"}}
	var services []spec.DeployedService
	for name, sni := range names {
		cert := ca.Issue(t, sni...).TLS(t)
		up := backend(t, name, &cert)
		routeSNI := `,"sni":["` + sni[0] + `"]`
		if name == "def" {
			routeSNI = ""
		}
		services = append(services, stream(t, name, `{`+nodes(up)+`}`,
			`[{"name":"`+name+`","listener":"l","tls":"passthrough"`+routeSNI+`}]`))
	}
	g := serve(t, nil, services...)
	for _, tc := range []struct{ sni, verify, want string }{
		{"a.test", "a.test", "a"},
		{"B.TEST", "b.test", "b"},
		{"y.w.test", "y.w.test", "wild"},
		{"x.w.test", "x.w.test", "exact"},
		{"other.test", "default.test", "def"},
		{"", "default.test", "def"},
	} {
		t.Run(tc.sni, func(t *testing.T) {
			c, err := net.Dial("tcp", g.addr)
			if err != nil {
				t.Fatal(err)
			}
			// The backend's own certificate, for the name it serves.
			tc2 := tls.Client(c, &tls.Config{ServerName: tc.sni, MinVersion: tls.VersionTLS12,
				InsecureSkipVerify: true, //nolint:gosec // verified below, for the backend's name
				VerifyConnection: func(cs tls.ConnectionState) error {
					if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: ca.Pool()}); err != nil {
						return err
					}
					return cs.PeerCertificates[0].VerifyHostname(tc.verify)
				}})
			defer tc2.Close()
			if got := ask(t, tc2, "hi"); got != tc.want+":hi" {
				t.Fatalf("answer %q, want %s:hi", got, tc.want)
			}
		})
	}
}

// Termination completes TLS at the gateway with the group's certificate
// and relays the plain bytes; the upstream may be reached over TLS again.
func TestTerminate(t *testing.T) {
	ca := certtest.NewCA(t)
	upCert := ca.Issue(t, "backend.test").TLS(t)
	plainUp := backend(t, "plain", nil)
	tlsUp := backend(t, "tls", &upCert)
	certs := []spec.Certificate{ca.Issue(t, "edge.test", "edge2.test").GroupCertificate(t, "edge", true)}
	g := serve(t, certs,
		stream(t, "p", `{`+nodes(plainUp)+`}`, `[{"name":"p","listener":"l","tls":"terminate","sni":["edge.test"]}]`),
		stream(t, "t", `{"scheme":"tls","tls":{"ca":`+strconv.Quote(ca.PEM)+`,"server_name":"backend.test"},`+nodes(tlsUp)+`}`,
			`[{"name":"t","listener":"l","tls":"terminate","sni":["edge2.test"]}]`))
	for sni, want := range map[string]string{"edge.test": "plain:hi", "edge2.test": "tls:hi"} {
		c, err := tls.Dial("tcp", g.addr, &tls.Config{ServerName: sni, RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("%s: %v", sni, err)
		}
		if got := ask(t, c, "hi"); got != want {
			t.Fatalf("%s: answer %q, want %q", sni, got, want)
		}
		c.Close()
	}
}

func TestUpstreamTLSRefused(t *testing.T) {
	ca, other := certtest.NewCA(t), certtest.NewCA(t)
	upCert := other.Issue(t, "backend.test").TLS(t)
	up := backend(t, "tls", &upCert)
	g := serve(t, nil, stream(t, "s", `{"scheme":"tls","tls":{"ca":`+strconv.Quote(ca.PEM)+`},`+nodes(up)+`}`,
		`[{"name":"r","listener":"l"}]`))
	c := dialPlain(t, g.addr)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "hi\n"); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(c); len(got) > 0 { // closed, or reset: the line was never read
		t.Fatalf("answer %q through an upstream of an untrusted certificate", got)
	}
	g.results.expect(t, "r "+ResultUpstreamTLS)
}

func TestRefusals(t *testing.T) {
	up := backend(t, "up", nil)
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	g := serve(t, nil,
		stream(t, "deny", `{`+nodes(up)+`}`, `[{"name":"deny","listener":"l","tls":"passthrough","sni":["deny.test"],
			"plugins":{"ip-restriction":{"deny":["127.0.0.0/8"]}}}]`),
		stream(t, "down", `{`+nodes(deadAddr, deadAddr)+`}`, `[{"name":"down","listener":"l","tls":"passthrough","sni":["down.test"]}]`))
	for sni, want := range map[string]string{"deny.test": "deny " + ResultForbidden, "down.test": "down " + ResultUpstreamUnavailable,
		"none.test": "- " + ResultNoRoute} {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		err = tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true}).Handshake() //nolint:gosec // never gets that far
		if err == nil {
			t.Fatalf("%s: a handshake completed", sni)
		}
		g.results.expect(t, want)
		c.Close()
	}
	// A client that sends nothing on a listener that reads TLS is closed
	// after the hello timeout.
	c := dialPlain(t, g.addr)
	g.results.expect(t, "- "+ResultSilent)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a silent client: %v, want EOF", err)
	}
}

// limit-conn closes the connection over the limit as it arrives, and one
// slot freed takes the next.
func TestLimitConn(t *testing.T) {
	hold := make(chan struct{})
	up := tcpBackend(t, listen(t), func(c net.Conn) {
		_, _ = io.WriteString(c, "hello\n")
		<-hold
	})
	g := serve(t, nil, stream(t, "s", `{`+nodes(up)+`}`,
		`[{"name":"r","listener":"l","plugins":{"limit-conn":{"conn":1}}}]`))
	first := dialPlain(t, g.addr)
	g.results.expect(t, "r proxied")
	second := dialPlain(t, g.addr)
	g.results.expect(t, "r "+ResultLimited)
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("over the limit: %v, want EOF", err)
	}
	first.Close()
	close(hold)
	g.results.expect(t, "r closed")
	third := dialPlain(t, g.addr)
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(third).ReadString('\n'); line != "hello\n" {
		t.Fatalf("after a slot freed: %q, %v", line, err)
	}
}

// A connection that moves nothing for the upstream's timeout.read ends.
func TestIdleTimeout(t *testing.T) {
	up := tcpBackend(t, listen(t), func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	g := serve(t, nil, stream(t, "s", `{"timeout":{"read":0.2},`+nodes(up)+`}`, `[{"name":"r","listener":"l"}]`))
	c := dialPlain(t, g.addr)
	g.results.expect(t, "r proxied")
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", waited)
	}
	g.results.expect(t, "r closed")
}

// Shutdown waits for open connections until its context ends, then
// closes them.
func TestShutdownClosesLingering(t *testing.T) {
	up := tcpBackend(t, listen(t), func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	g := serve(t, nil, stream(t, "s", `{`+nodes(up)+`}`, `[{"name":"r","listener":"l"}]`))
	c := dialPlain(t, g.addr)
	g.results.expect(t, "r proxied")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := g.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection outlived the drain")
	}
}
