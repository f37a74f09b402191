package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

type answer struct {
	status int
	body   string
}

func httpPost(url string) (answer, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}, nil
}

// refusingPort is a loopback port that refuses connections for the rest
// of the test: a socket bound to it but never listening holds the port, so
// no one else can take it meanwhile, and the kernel answers every
// connection to it with a reset.
func refusingPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

// TestUnreachableUpstream: a node nobody listens on gives the gateway's JSON
// 502 within the connect timeout.
func TestUnreachableUpstream(t *testing.T) {
	port := refusingPort(t)
	s := startServer(t, t.TempDir())
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"dead"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"dead","paths":["/dead"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":{"nodes":[{"host":"127.0.0.1","port":`+port+`}],"timeout":{"connect":1}}}`, 201, nil)
	waitFor(t, s.Gateway+"/dead", 2*time.Second, func(st int, _ []byte) bool { return st != 404 })

	start := time.Now()
	st, hdr, body, err := get(context.Background(), s.Gateway+"/dead")
	took := time.Since(start)
	if err != nil || st != 502 {
		t.Fatalf("GET /dead = %d %s %v, want 502", st, body, err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("502 took %v, want within the 1s connect timeout", took)
	}
	var e struct {
		Error struct {
			Code, Message string
		}
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.RequestID == "" {
		t.Errorf("502 body %s is not the gateway's JSON error (%v)", body, err)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("502 Content-Type = %q", ct)
	}
	if hdr.Get("X-Request-Id") != e.RequestID {
		t.Errorf("X-Request-Id %q != body request_id %q", hdr.Get("X-Request-Id"), e.RequestID)
	}
}

// TestSIGTERMDrains: a request in flight when SIGTERM arrives completes,
// then the process exits cleanly.
func TestSIGTERMDrains(t *testing.T) {
	// The backend holds the request it is armed for until released, so the
	// test knows it is in flight when SIGTERM is sent, and still in flight
	// once the gateway is draining.
	var armed atomic.Bool
	arrived, release := make(chan struct{}), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed.CompareAndSwap(true, false) {
			close(arrived)
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprint(w, `{"slow":true}`)
	}))
	defer upstream.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release) // a failed test does not leave the handler waiting
		}
	}()
	port := upstream.Listener.Addr().(*net.TCPAddr).Port
	s := startServer(t, t.TempDir())
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"slow"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"slow","paths":["/slow"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/slow", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })

	armed.Store(true)
	done := make(chan answer, 1)
	// The request id is the client's, so the call can be looked up after
	// the restart.
	const slowID = "sigterm-drained-call"
	go func() {
		req, _ := http.NewRequest("GET", s.Gateway+"/slow", nil)
		req.Header.Set("X-Request-Id", slowID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, string(b)}
	}()
	select {
	case <-arrived:
	case a := <-done:
		t.Fatalf("request answered before reaching the backend: %d %s", a.status, a.body)
	case <-time.After(10 * time.Second):
		t.Fatal("request did not reach the backend within 10s")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The status server answers until the gateway has drained, which waits
	// for the held request: /readyz saying draining means SIGTERM is being
	// handled with the request still in flight.
	waitFor(t, s.Status+"/readyz", 10*time.Second, func(st int, body []byte) bool {
		return st == http.StatusServiceUnavailable && strings.Contains(string(body), "draining")
	})
	close(release)
	select {
	case a := <-done:
		if a.status != 200 {
			t.Errorf("in-flight request during SIGTERM = %d %s, want 200", a.status, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight request did not finish")
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after draining")
	}
	// The call that ended during the drain was written to the call log
	// before exit: its line reaches the log's writer only when the
	// gateway closes its access log, after the drain.
	s = startServer(t, s.DataDir)
	var page struct {
		Items []struct {
			RequestID string `json:"request_id"`
		}
	}
	s.do(t, "GET", "/api/v1/projects/default/logs?request_id="+slowID, "", 200, &page)
	if len(page.Items) != 1 {
		t.Errorf("the call served during the drain is not in the call log after a restart: %+v", page.Items)
	}
}

// TestAdminErrors checks the admin API's error contract end to end.
func TestAdminErrors(t *testing.T) {
	s := startServer(t, t.TempDir())
	tok := s.Token
	s.Token = ""
	s.do(t, "GET", "/api/v1/projects", "", 401, nil)
	s.Token = tok
	b := s.do(t, "POST", "/api/v1/projects/default/services/x/routes", `{"name":"r","paths":["/x"]}`, 404, nil)
	if !strings.Contains(string(b), `"status"`) {
		t.Errorf("404 body %s is not problem+json", b)
	}
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"v"}`, 201, &svc)
	var p struct {
		Errors []struct{ Field string }
	}
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/routes", `{"name":"","paths":["nope"],"methods":["FETCH"]}`, 400, &p)
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	for _, f := range []string{"name", "paths[0]", "methods[0]"} {
		if !fields[f] {
			t.Errorf("400 errors %v do not name %s", p.Errors, f)
		}
	}
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"v"}`, 409, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"w","colour":"red"}`, 400, nil)
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":`, 400, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish", `{"group":"default","version":"1.0.0","upstream":{"nodes":[{"host":"127.0.0.1","port":70000,"weight":-1}]}}`, 400, &p)
	fields = map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	if !fields["upstream.nodes[0].port"] || !fields["upstream.nodes[0].weight"] {
		t.Errorf("publish 400 errors %v do not name the port and weight", p.Errors)
	}
	// The refused publish left nothing behind.
	var vers struct{ Total int }
	s.do(t, "GET", "/api/v1/projects/default/services/"+svc.ID+"/versions", "", 200, &vers)
	if vers.Total != 0 {
		t.Errorf("a refused publish left %d versions", vers.Total)
	}
	var doc struct{ OpenAPI string }
	s.do(t, "GET", "/api/v1/openapi.json", "", 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi.json version %q", doc.OpenAPI)
	}
}
