package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
)

// TestHTTPSUpstreams: through the real binary, an upstream of scheme https
// whose certificate a private CA signed is verified against that CA under
// the name the upstream says (200); the same backend asked for another
// name, or trusted to the system's roots only, is refused with 502
// upstream_tls and never gets the request.
func TestHTTPSUpstreams(t *testing.T) {
	ca := certtest.NewCA(t)
	pair := ca.Issue(t, "backend.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 16)
	backend := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served <- r.URL.Path
			_, _ = io.WriteString(w, "over TLS to "+r.TLS.ServerName)
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair.TLS(t)}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // the refused handshakes
	}
	go func() { _ = backend.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = backend.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	s := startServer(t, t.TempDir())
	s.createProject(t, "tlsup")
	for _, tc := range []struct {
		service, tlsSettings string
		status               int
		want                 string // the body, or the gateway's error code
	}{
		{"trusted", `{"ca":` + strconv.Quote(ca.PEM) + `,"server_name":"backend.test"}`, 200, "over TLS to backend.test"},
		{"wrongname", `{"ca":` + strconv.Quote(ca.PEM) + `,"server_name":"other.test"}`, 502, "upstream_tls"},
		{"systemroots", `{"server_name":"backend.test"}`, 502, "upstream_tls"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			upstream := fmt.Sprintf(`{"scheme":"https","nodes":[{"host":"127.0.0.1","port":%d}],"tls":%s}`, port, tc.tlsSettings)
			svc := fmt.Sprintf(`{"name":%q,"path":"/%s","upstream":%s,"routes":[{"name":"x","paths":["/x"]}]}`,
				tc.service, tc.service, upstream)
			var created struct{ ID string }
			s.do(t, "POST", "/api/v1/projects/tlsup/services", svc, 201, &created)
			s.publishVersion(t, "/api/v1/projects/tlsup/services/"+created.ID, "1.0.0", upstream)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			status, _, body, err := get(ctx, s.Gateway+"/"+tc.service+"/x")
			if err != nil {
				t.Fatal(err)
			}
			got := string(body)
			if status != 200 {
				var e struct{ Error struct{ Code string } }
				if json.Unmarshal(body, &e) == nil {
					got = e.Error.Code
				}
			}
			if status != tc.status || got != tc.want {
				t.Fatalf("%d %s, want %d %s (body %s)", status, got, tc.status, tc.want, body)
			}
			if status == 200 {
				<-served
			}
		})
	}
	select {
	case p := <-served:
		t.Errorf("the backend was called (%s) past a refused certificate", p)
	default:
	}
}
