package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
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
)

// TestGRPCThroughTheBinary: a service whose upstream is a gRPC server
// (scheme grpc), published through the admin API, is called by a gRPC
// client through the gateway over TLS and over h2c, unary and
// server-streaming; with key-auth on the service the client sees
// UNAUTHENTICATED.
func TestGRPCThroughTheBinary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(backend, hs)
	go func() { _ = backend.Serve(ln) }()
	t.Cleanup(backend.Stop)
	port := ln.Addr().(*net.TCPAddr).Port

	cp := startServer(t, t.TempDir(), "--gateway-tls-addr", "127.0.0.1:0", "--gateway-h2c")
	var svc struct{ ID string }
	cp.do(t, "POST", "/api/v1/projects/default/services", `{"name":"health"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	cp.do(t, "POST", base+"/routes", `{"name":"health","paths":["/grpc.health.v1.Health/*"],"methods":["POST"]}`, 201, nil)
	up := fmt.Sprintf(`{"scheme":"grpc","nodes":[{"host":"127.0.0.1","port":%d,"weight":1}]}`, port)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+up+`}`, 201, nil)
	ca := certtest.NewCA(t)
	cp.do(t, "POST", "/api/v1/gateway-groups/default/certificates", certificateBody("grpc", ca.Issue(t, "grpc.example.com"), true), 201, nil)

	waitCertificate(t, cp.GatewayTLS, "grpc.example.com", ca)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	overTLS, err := grpc.NewClient("passthrough:///"+cp.GatewayTLS,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: ca.Pool(), ServerName: "grpc.example.com"})))
	if err != nil {
		t.Fatal(err)
	}
	defer overTLS.Close()
	overH2C, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(cp.Gateway, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer overH2C.Close()
	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	for name, conn := range map[string]*grpc.ClientConn{"TLS": overTLS, "h2c": overH2C} {
		client := healthpb.NewHealthClient(conn)
		if res, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("%s: Check: %v, %v", name, res, err)
		}
		watch, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("%s: Watch: %v, %v", name, m, err)
		}
	}

	// key-auth on the service: a new version, published.
	cp.do(t, "PATCH", base, `{"plugins":{"key-auth":{}}}`, 200, nil)
	cp.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.1","upstream":`+up+`}`, 201, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := healthpb.NewHealthClient(overTLS).Check(ctx, &healthpb.HealthCheckRequest{})
		if status.Code(err) == codes.Unauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after key-auth: %v, want Unauthenticated", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
