package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
)

// grpcBackend is a gRPC server (the standard health service) on a plain
// port: gRPC over HTTP/2 without TLS.
func grpcBackend(t *testing.T) (spec.Node, *health.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: "127.0.0.1", Port: p, Weight: 1}, hs
}

// gRPC through the gateway's TLS listener: unary and server-streaming
// calls reach a gRPC upstream (scheme grpc) over HTTP/2; the gateway's own
// refusals (an auth plugin, no route) reach the client as gRPC statuses;
// over HTTP/1.1 such a route answers 505.
func TestGRPC(t *testing.T) { forEachEngine(t, testGRPC) }

func testGRPC(t *testing.T, engine string) {
	r := start(t, engine, func(o *Options) { o.H2C = true })
	node, hs := grpcBackend(t)
	ca := certtest.NewCA(t)
	mk := func(rev int64, plugins spec.Plugins) *spec.Snapshot {
		return &spec.Snapshot{Revision: rev, Groups: []spec.GroupSnapshot{{
			Group: spec.GatewayGroup{Name: "default"},
			Services: []spec.DeployedService{{ProjectID: "default", Version: "1.0.0",
				Service: spec.Service{ID: "health-id", Name: "health", Plugins: plugins, Routes: []spec.Route{
					{ID: "h", Name: "h", Paths: []string{"/grpc.health.v1.Health/*"}, Methods: []string{"POST"}}}},
				Upstream: spec.Upstream{Scheme: "grpc", Nodes: []spec.Node{node}}}},
			Certificates: []spec.Certificate{ca.Issue(t, "grpc.example.com").GroupCertificate(t, "grpc", true)},
		}}}
	}
	r.publish(t, mk(1, nil))

	conn, err := grpc.NewClient("passthrough:///"+r.tls,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: ca.Pool(), ServerName: "grpc.example.com"})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	res, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check: %v, %v", res, err)
	}
	// Server streaming: the current status, then a change.
	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch, first: %v, %v", m, err)
	}
	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_NOT_SERVING)
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch, after the change: %v, %v", m, err)
	}
	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nothing"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("the upstream's own status: %v, want NotFound", err)
	}

	// The gateway's refusals as gRPC statuses.
	r.publish(t, mk(2, spec.Plugins{"key-auth": []byte(`{}`)}))
	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{})
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || st.Message() == "" {
		t.Errorf("an auth plugin's refusal: %v, want Unauthenticated with a message", err)
	}
	err = conn.Invoke(ctx, "/no.Such/Method", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("no route: %v, want Unimplemented", err)
	}

	// h2c: gRPC without TLS on the plain address, beside HTTP/1.1 there.
	plain, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(r.gw, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	r.publish(t, mk(3, nil))
	if res, err := healthpb.NewHealthClient(plain).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("Check over h2c: %v, %v", res, err)
	}
	if code, _ := fetch(t, r.gw+"/grpc.health.v1.Health/Check"); code != http.StatusMethodNotAllowed {
		t.Errorf("HTTP/1.1 on the plain address with h2c on: %d, want 405 (the route is POST only)", code)
	}

	// A gRPC route over HTTP/1.1 cannot be proxied.
	h1 := sniClient(ca, "grpc.example.com")
	req, _ := http.NewRequest(http.MethodPost, "https://"+r.tls+"/grpc.health.v1.Health/Check", nil)
	req.Header.Set("Content-Type", "application/grpc")
	resp, err := h1.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusHTTPVersionNotSupported {
		t.Errorf("gRPC over HTTP/1.1: %d, want 505", resp.StatusCode)
	}
}
