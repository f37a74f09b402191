package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// schemaTemplate is a data directory whose SQLite store TestMain brought
// to the current schema with `portico migrate up`. A control plane started
// on an empty data directory gets a copy (seedSchema): the migrations take
// about a second under the race detector, and the suite starts over a
// hundred control planes. Starting on a store without tables is
// TestFreshDataDirMigrates's.
var schemaTemplate string

// seedSchema copies the template's store into dataDir when the server
// would create a new SQLite store there (dataDir has none, and extra names
// no other store).
func seedSchema(t *testing.T, dataDir string, extra []string) {
	t.Helper()
	for _, a := range extra {
		if strings.HasPrefix(a, "--store") {
			return
		}
	}
	db := filepath.Join(dataDir, "portico.db")
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		return
	}
	b, err := os.ReadFile(filepath.Join(schemaTemplate, "portico.db"))
	if err == nil {
		err = os.MkdirAll(dataDir, 0o700)
	}
	if err == nil {
		err = os.WriteFile(db, b, 0o644)
	}
	if err != nil {
		t.Fatalf("seed the schema: %v", err)
	}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portico-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "portico")
	// portico_e2e: users' passwords hashed at bcrypt's minimum cost
	// (internal/adminapi/auth_e2e.go), as in the unit tests.
	args := []string{"build", "-tags", "portico_e2e", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
		// A race-detector binary sleeps a second before it exits
		// (atexit_sleep_ms), and the suite runs the binary hundreds of
		// times. Races are reported when they happen, so the sleep adds
		// nothing here; GORACE reaches every process started below.
		if os.Getenv("GORACE") == "" {
			os.Setenv("GORACE", "atexit_sleep_ms=0")
		}
	}
	build := exec.Command("go", append(args, "../cmd/portico")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build portico:", err)
		os.Exit(1)
	}
	schemaTemplate = filepath.Join(dir, "schema")
	migrate := exec.Command(binary, "migrate", "up", "--data-dir", schemaTemplate)
	migrate.Stdout, migrate.Stderr = os.Stderr, os.Stderr
	if err := migrate.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "migrate the schema template:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `portico server` process.
type server struct {
	Admin, Gateway, Status string // base URLs
	GatewayTLS             string // the HTTPS listener's address (host:port), when it has one
	DataDir                string
	Password               string
	Token                  string
	StartedIn              time.Duration // from exec to the ready file (ready: /readyz answers 200)

	// Streams are the stream listeners' addresses (host:port) by name
	// (--gateway-stream-addr NAME=ADDR).
	Streams map[string]string

	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan error
	client *http.Client // what do calls the admin API with; nil: http.DefaultClient
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

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs the binary on ports of its own choosing with dataDir and
// waits until it is ready and logged in as admin.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	s, err := launch(t, dataDir, extra...)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.out.String())
	}
	var login struct{ Token string }
	s.do(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":"admin","password":%q}`, s.Password), 200, &login)
	s.Token = login.Token
	return s
}

// launch starts one server process on port 0 addresses and waits for its
// ready file, which names the ports it bound: no port is picked in advance,
// so none can be lost to another test. extra comes last, so an address
// given there (--admin-addr 0.0.0.0:0, or a port to reuse) wins.
func launch(t *testing.T, dataDir string, extra ...string) (*server, error) {
	t.Helper()
	return launchAs(t, dataDir, "e2e-secret-password", extra...)
}

// launchAs is launch with the first admin's password chosen by the caller.
func launchAs(t *testing.T, dataDir, password string, extra ...string) (*server, error) {
	t.Helper()
	s := &server{DataDir: dataDir, Password: password}
	seedSchema(t, dataDir, extra)
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	args := append([]string{"server", "--data-dir", dataDir, "--admin-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0",
		"--status-addr", "127.0.0.1:0", "--ready-file", readyFile, "--drain-timeout", "10s"}, extra...)
	return s, s.start(t, args, []string{"PORTICO_ADMIN_PASSWORD=" + s.Password}, readyFile)
}

// launchGateway starts a stand-alone gateway (`portico gateway`) of group
// fed by control plane cp, on port 0 addresses, and waits until it serves.
// Its server value has no admin address.
func launchGateway(t *testing.T, cp *server, group, token, cacheDir string, extra ...string) (*server, error) {
	t.Helper()
	s := &server{}
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	args := append([]string{"gateway", "--control-plane", cp.Admin, "--group", group, "--cache-dir", cacheDir,
		"--gateway-addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0", "--ready-file", readyFile, "--drain-timeout", "10s"}, extra...)
	return s, s.start(t, args, []string{"PORTICO_GATEWAY_TOKEN=" + token}, readyFile)
}

// start runs the binary with args and env (added to this process's) and
// waits for its ready file; the test's cleanup stops it.
func (s *server) start(t *testing.T, args, env []string, readyFile string) error {
	t.Helper()
	s.out, s.exited = &syncBuffer{}, make(chan error, 1)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), env...)
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
	// A bound, not a target: a fresh store's migrations each sync the
	// disk, and a machine busy with I/O has taken over 15 s to start.
	addrs, err := s.waitReadyFile(readyFile, 60*time.Second)
	if err != nil {
		return err
	}
	if addrs.Admin != "" {
		s.Admin = baseURL(addrs.Admin)
	}
	s.Gateway, s.Status, s.GatewayTLS = baseURL(addrs.Gateway), baseURL(addrs.Status), addrs.GatewayTLS
	s.Streams = addrs.GatewayStreams
	s.StartedIn = time.Since(start)
	return nil
}

// readyAddrs is the ready file of `portico server --ready-file`.
type readyAddrs struct {
	Admin, Gateway, Status string
	GatewayTLS             string `json:"gateway_tls"`

	GatewayStreams map[string]string `json:"gateway_streams"`
}

// waitReadyFile waits for the server to write its ready file, which it does
// once it listens and has applied its first config (/readyz answers 200
// from then on), or to exit, whichever comes first. The file is written by
// rename, so once it is there it is whole.
func (s *server) waitReadyFile(path string, limit time.Duration) (readyAddrs, error) {
	var a readyAddrs
	deadline := time.After(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if err := json.Unmarshal(b, &a); err != nil {
				return a, fmt.Errorf("ready file %s: %w", b, err)
			}
			return a, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return a, err
		}
		select {
		case err := <-s.exited:
			s.exited <- err // stop reads it again
			return a, fmt.Errorf("server exited before ready: %w", err)
		case <-deadline:
			return a, fmt.Errorf("server not ready after %v", limit)
		case <-tick.C:
		}
	}
}

// baseURL turns a bound address into a URL this machine can call: a server
// told to listen on every interface reports 0.0.0.0 or ::.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return "http://" + addr
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

// kill ends the process with SIGKILL (kill -9): no drain, no goodbye.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	err := <-s.exited
	s.exited <- err // let a later stop see it
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
	client := s.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
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

// TestFreshDataDirMigrates: a control plane started on an empty data
// directory creates its store and applies every migration, then serves.
// (The other tests start on a copy of a migrated store: seedSchema.)
func TestFreshDataDirMigrates(t *testing.T) {
	dir := t.TempDir()
	// --store= names the embedded store explicitly, so seedSchema
	// leaves the directory empty.
	s := startServer(t, dir, "--store=")
	s.do(t, "GET", "/api/v1/projects/default/services", "", 200, nil)
	s.stop(t)
	status, err := exec.Command(binary, "migrate", "status", "--data-dir", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate status: %v\n%s", err, status)
	}
	applied := strings.Count(s.out.String(), "store migration applied")
	known := strings.Count(string(status), ".sql ")
	if applied == 0 || applied != known || !strings.Contains(string(status), "\n0 pending") {
		t.Fatalf("%d migrations applied on an empty data directory, of %d:\n%s", applied, known, status)
	}
}
