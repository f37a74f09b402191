package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a portico process the benchmark started.
type process struct {
	cmd                   *exec.Cmd
	log                   string
	admin, status, bearer string // base URLs; an admin session token
}

const password = "bench-admin-password"

// startServer starts control plane i on the store at storeURL (""
// the SQLite store of dir/data).
func startServer(ctx context.Context, bin, dir string, i int, storeURL string) (*process, error) {
	name := "server"
	if i > 0 {
		name = fmt.Sprintf("server-%d", i)
	}
	args := []string{"server", "--data-dir", filepath.Join(dir, "data"), "--group", benchGroup,
		"--admin-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0"}
	if storeURL != "" {
		args = append(args, "--store", storeURL)
	}
	p, err := launch(ctx, bin, filepath.Join(dir, name), []string{"PORTICO_ADMIN_PASSWORD=" + password}, args...)
	if err != nil {
		return nil, err
	}
	var login struct{ Token string }
	body := fmt.Sprintf(`{"username":"admin","password":%q}`, password)
	if err := p.call(ctx, "POST", "/api/v1/auth/login", body, http.StatusOK, &login); err != nil {
		p.stop()
		return nil, err
	}
	p.bearer = login.Token
	return p, nil
}

func startGateway(ctx context.Context, bin, dir string, i int, controlPlane, token string) (*process, error) {
	name := fmt.Sprintf("gateway-%d", i)
	return launch(ctx, bin, filepath.Join(dir, name), []string{"PORTICO_GATEWAY_TOKEN=" + token},
		"gateway", "--control-plane", controlPlane, "--group", benchGroup, "--instance-id", name,
		"--cache-dir", filepath.Join(dir, name, "cache"), "--gateway-addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0", "--profiling")
}

// launch starts bin with args and a ready file, and waits for the file.
func launch(ctx context.Context, bin, dir string, env []string, args ...string) (*process, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready.json")
	p := &process{log: filepath.Join(dir, "log")}
	out, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	p.cmd = exec.Command(bin, append(args, "--ready-file", ready)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := os.ReadFile(ready)
		if err == nil {
			var a struct{ Admin, Status string }
			if err := json.Unmarshal(b, &a); err != nil {
				p.stop()
				return nil, fmt.Errorf("ready file: %w", err)
			}
			if a.Admin != "" {
				p.admin = "http://" + a.Admin
			}
			p.status = "http://" + a.Status
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			p.stop()
			return nil, err
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited before it was ready: %s", args[0], p.tail())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s not ready within 2 minutes: %s", args[0], p.tail())
		}
	}
}

func (p *process) stop() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = p.cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}
}

func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// memory is what /proc/PID/status says of a process's memory (Linux).
type memory struct {
	rss  int64 // resident now, bytes
	file int64 // of it, pages of files (the binary's code and data, shared and reclaimable)
	peak int64 // the most ever resident
}

func (p *process) memory() memory {
	var m memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch name {
		case "VmRSS":
			m.rss = kb << 10
		case "RssFile":
			m.file = kb << 10
		case "VmHWM":
			m.peak = kb << 10
		}
	}
	return m
}

// rss is the process's resident memory in bytes.
func (p *process) rss() int64 { return p.memory().rss }

// heapLive is the Go heap live after a garbage collection it asks for
// (its heap profile's statistics, --profiling), in bytes: what RSS holds
// beyond it is the collector's headroom and memory not yet given back.
func (p *process) heapLive(ctx context.Context) (int64, error) {
	b, err := p.statusGet(ctx, "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return 0, err
	}
	var live int64 = -1
	var stats []string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			if live, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return 0, err
			}
		}
		for _, name := range []string{"Sys", "HeapSys", "HeapIdle", "HeapReleased", "HeapInuse", "Stack", "MSpan", "GCSys", "OtherSys"} {
			if v, ok := strings.CutPrefix(line, "# "+name+" = "); ok {
				stats = append(stats, name+" "+strings.TrimSpace(v))
			}
		}
	}
	if live < 0 {
		return 0, errors.New("no HeapAlloc in the heap profile")
	}
	log.Printf("gateway's Go memory (bytes): HeapAlloc %d, %s", live, strings.Join(stats, ", "))
	return live, nil
}

// saveHeapProfile writes the process's heap profile (it runs with
// --profiling) to path, for go tool pprof.
func (p *process) saveHeapProfile(ctx context.Context, path string) error {
	b, err := p.statusGet(ctx, "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (p *process) statusGet(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", p.status+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return b, err
}

// call sends an admin API request and decodes the answer into out.
func (p *process) call(ctx context.Context, method, path, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.admin+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+p.bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (p *process) joinToken(ctx context.Context) (string, error) {
	var tok struct{ Token string }
	err := p.call(ctx, "POST", "/api/v1/gateway-groups/"+benchGroup+"/tokens", `{"name":"bench"}`, http.StatusCreated, &tok)
	return tok.Token, err
}

func (p *process) groupRevision(ctx context.Context) (int64, error) {
	var g struct{ Revision int64 }
	err := p.call(ctx, "GET", "/api/v1/gateway-groups/"+benchGroup, "", http.StatusOK, &g)
	return g.Revision, err
}

// publish publishes a new version of the service and answers the
// group's new revision.
func (p *process) publish(ctx context.Context, service, version string) (int64, error) {
	var out struct{ Revision int64 }
	err := p.call(ctx, "POST", "/api/v1/projects/"+benchProject+"/services/"+service+"/publish",
		fmt.Sprintf(`{"group":%q,"version":%q}`, benchGroup, version), http.StatusCreated, &out)
	return out.Revision, err
}

// feedSize is the size of one feed answer.
type feedSize struct{ raw, gzip int }

// feed polls the feed as a gateway serving after would, and answers the
// answer's size and the consumers' digest it carries.
func (p *process) feed(ctx context.Context, token string, after int64, consumers string) (feedSize, string, error) {
	u := fmt.Sprintf("%s/feed/v1/groups/%s?after=%d", p.admin, benchGroup, after)
	if consumers != "" {
		u += "&deltas=1&consumers=" + consumers
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return feedSize{}, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return feedSize{}, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return feedSize{}, "", fmt.Errorf("feed after %d: status %d: %.200s", after, resp.StatusCode, b)
	}
	var up struct {
		Consumers string `json:"consumers_digest"`
	}
	if err := json.Unmarshal(b, &up); err != nil {
		return feedSize{}, "", fmt.Errorf("feed after %d: %w", after, err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(b)
	_ = w.Close()
	return feedSize{raw: len(b), gzip: z.Len()}, up.Consumers, nil
}

// allServe waits until every gateway serves revision rev or later.
func allServe(ctx context.Context, gws []*process, rev int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, g := range gws {
		for {
			got, err := g.serving(ctx)
			if err == nil && got >= rev {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("a gateway still serves revision %d, not %d, after %s (%v): %s", got, rev, limit, err, g.tail())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

// serving is the revision a gateway's /readyz reports.
func (p *process) serving(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", p.status+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct{ Revision int64 }
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r.Revision, err
}
