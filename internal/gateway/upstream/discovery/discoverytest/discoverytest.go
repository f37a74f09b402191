// Package discoverytest is what the registry clients' tests share: a
// Follow run whose updates and statuses the test reads from channels, and a
// registry server that can go away and come back on the same address.
package discoverytest

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

// Timeout bounds every wait of a test on Follow. It is not a timed
// assertion: it only turns a hang into a failure that says what was
// awaited; it allows for a few error backoffs (1 s, 2 s, 4 s).
const Timeout = 20 * time.Second

// Follower is a discovery.Follow running until the test ends.
type Follower struct {
	Updates  chan []spec.Node
	Statuses chan discovery.Status
	cancel   context.CancelFunc
	done     chan struct{}
}

// Follow starts discovery.Follow of t in r. It stops, and is waited for,
// when the test ends.
func Follow(tb testing.TB, r discovery.Resolver, t discovery.Target, poll time.Duration) *Follower {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &Follower{
		Updates:  make(chan []spec.Node, 16),
		Statuses: make(chan discovery.Status, 16),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(f.done)
		discovery.Follow(ctx, r, t, poll,
			func(n []spec.Node) { send(ctx, f.Updates, n) },
			func(s discovery.Status) { send(ctx, f.Statuses, s) })
	}()
	tb.Cleanup(f.Stop)
	return f
}

// send hands v to the test, or drops it once the Follower is stopping.
func send[T any](ctx context.Context, ch chan T, v T) {
	select {
	case ch <- v:
	case <-ctx.Done():
	}
}

// Stop ends Follow and waits for it to return.
func (f *Follower) Stop() {
	f.cancel()
	<-f.done
}

// WaitNodes reads updates until one equals want.
func (f *Follower) WaitNodes(tb testing.TB, want []spec.Node) {
	tb.Helper()
	timeout := time.After(Timeout)
	var last []spec.Node
	for {
		select {
		case got := <-f.Updates:
			if slices.Equal(got, want) {
				return
			}
			last = got
		case <-timeout:
			tb.Fatalf("no update to %v within %v; last update %v", want, Timeout, last)
		}
	}
}

// WaitStatus reads statuses until one is healthy as asked, and returns it.
func (f *Follower) WaitStatus(tb testing.TB, healthy bool) discovery.Status {
	tb.Helper()
	timeout := time.After(Timeout)
	for {
		select {
		case s := <-f.Statuses:
			if s.Healthy == healthy {
				return s
			}
		case <-timeout:
			tb.Fatalf("no status with Healthy=%v within %v", healthy, Timeout)
		}
	}
}

// NoUpdate fails when an update is waiting. Follow calls update before
// status in the same goroutine, so after WaitStatus an update caused by
// the attempt the status reports is already in the channel.
func (f *Follower) NoUpdate(tb testing.TB) {
	tb.Helper()
	select {
	case got := <-f.Updates:
		tb.Errorf("unexpected update %v", got)
	default:
	}
}

// Server is an httptest server that can go away and come back on the same
// address, as a registry restarting does.
type Server struct {
	URL     string
	handler http.Handler
	tls     bool
	srv     *httptest.Server
}

// NewServer starts h on 127.0.0.1 (over TLS when tls); it is closed when
// the test ends.
func NewServer(tb testing.TB, h http.Handler, tls bool) *Server {
	tb.Helper()
	s := &Server{handler: h, tls: tls, srv: httptest.NewUnstartedServer(h)}
	s.start()
	s.URL = s.srv.URL
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	// Tests refuse handshakes on purpose (a client without the CA); the
	// server's log of them is noise.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if s.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
}

// CA is the server's certificate in PEM, for Config.CA.
func (s *Server) CA() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
}

// Stop closes the server and every connection to it; a blocking handler
// sees its request's context end.
func (s *Server) Stop() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Restart starts the server again on its old address.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	l, err := net.Listen("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		tb.Fatalf("listening again on the old address: %v", err)
	}
	old := s.srv
	s.srv = httptest.NewUnstartedServer(s.handler)
	s.srv.Listener.Close()
	s.srv.Listener = l
	if s.tls {
		// The same certificate, so that a client given it as CA trusts
		// the server that came back.
		s.srv.TLS = old.TLS
	}
	s.start()
}

// HugeJSON is a valid JSON string one byte longer than discovery.MaxBody
// allows, to check that a client stops reading at the limit.
func HugeJSON() []byte {
	b := make([]byte, discovery.MaxBody+1)
	for i := range b {
		b[i] = 'a'
	}
	b[0], b[len(b)-1] = '"', '"'
	return b
}
