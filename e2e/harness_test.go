package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the portico binary built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portico-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "portico")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/portico")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build portico:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `portico server` process.
type server struct {
	Admin, Gateway, Status string // base URLs
	DataDir                string
	Password               string
	Token                  string
	StartedIn              time.Duration // from exec to /readyz answering 200

	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs the binary on fresh loopback ports with dataDir and
// waits until it is ready and logged in as admin. A port picked free can be
// taken by another test's connection before the server binds it; such a
// start is retried on new ports.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := launch(t, dataDir, extra...)
		if err == nil {
			var login struct{ Token string }
			s.do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":"admin","password":%q}`, s.Password), 200, &login)
			s.Token = login.Token
			return s
		}
		if attempt < 4 && strings.Contains(s.out.String(), "address already in use") {
			t.Logf("start lost a port race, retrying: %v", err)
			continue
		}
		t.Fatalf("%v\n%s", err, s.out.String())
	}
}

// launch starts one server process and waits for /readyz.
func launch(t *testing.T, dataDir string, extra ...string) (*server, error) {
	t.Helper()
	s := &server{DataDir: dataDir, Password: "e2e-secret-password", out: &syncBuffer{}, exited: make(chan error, 1)}
	admin, gw, status := freePort(t), freePort(t), freePort(t)
	s.Admin, s.Gateway, s.Status = "http://"+admin, "http://"+gw, "http://"+status
	args := append([]string{"server", "--data-dir", dataDir, "--admin-addr", admin, "--gateway-addr", gw, "--status-addr", status, "--drain-timeout", "10s"}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), "PORTICO_ADMIN_PASSWORD="+s.Password)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("server output:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.Status + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err // stop reads it again
			return s, fmt.Errorf("server exited before ready: %w", err)
		default:
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("server not ready after 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.StartedIn = time.Since(start)
	return s, nil
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err // let a second stop see it
		if err != nil && !t.Failed() {
			t.Errorf("server exited with %v\n%s", err, s.out.String())
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("server did not exit within 20s of SIGTERM")
	}
}

// do calls the admin API the way the README's curl does (curl -d sends a
// form content type with a JSON body) and decodes the answer into out.
func (s *server) do(t *testing.T, method, path, body string, want int, out any) []byte {
	t.Helper()
	req, err := http.NewRequest(method, s.Admin+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}

// get calls the gateway.
func get(ctx context.Context, url string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// waitFor polls url until cond holds for its answer, or fails after limit.
func waitFor(t *testing.T, url string, limit time.Duration, cond func(status int, body []byte) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		status, _, body, err := get(context.Background(), url)
		if err == nil && cond(status, body) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("GET %s: condition not met within %v (last: %d %s %v)", url, limit, status, body, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// backend is a tiny upstream that names itself in every answer.
func backend(t *testing.T, name string) (host string, port int) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"backend":%q,"path":%q}`, name, r.URL.Path)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, `{"backend":%q,"slow":true}`, name)
	})
	srv := &http.Server{Handler: mux}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", a.Port
}

func nodes(port int) string {
	return fmt.Sprintf(`{"scheme":"http","nodes":[{"host":"127.0.0.1","port":%d,"weight":100}]}`, port)
}
