package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
	"github.com/portico-gw/portico/internal/adminclient"
)

// process is a portico the benchmark started: a control plane, logged in
// to its admin API, or a stand-alone gateway.
type process struct {
	*benchproc.Proc
	ps     *benchproc.Procs
	api    *adminclient.Client // nil for a gateway
	status string              // the status listener's base URL
}

// startServer starts control plane i on the store at storeURL (""
// the SQLite store of dir/data) and logs in to its admin API.
func startServer(ctx context.Context, ps *benchproc.Procs, bin, dir string, i int, storeURL string) (*process, error) {
	name := "server"
	if i > 0 {
		name = fmt.Sprintf("server-%d", i)
	}
	extra := []string{"--group", benchGroup}
	if storeURL != "" {
		extra = append(extra, "--store", storeURL)
	}
	p, rf, err := launch(ctx, ps, dir, name, []string{benchproc.AdminEnv},
		benchproc.ServerArgv(bin, filepath.Join(dir, "data"), benchproc.AnyPorts, extra...)...)
	if err != nil {
		return nil, err
	}
	// No timeout per call: a publish to a large group may take a while.
	if p.api, err = benchproc.Login(ctx, rf.Admin, 0); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

func startGateway(ctx context.Context, ps *benchproc.Procs, bin, dir string, i int, controlPlane, token string) (*process, error) {
	name := fmt.Sprintf("gateway-%d", i)
	p, _, err := launch(ctx, ps, dir, name, []string{"PORTICO_GATEWAY_TOKEN=" + token},
		bin, "gateway", "--control-plane", controlPlane, "--group", benchGroup, "--instance-id", name,
		"--cache-dir", filepath.Join(dir, name, "cache"), "--gateway-addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0", "--profiling")
	return p, err
}

// launch starts argv, a portico command, with its ready file in dir/name,
// and waits for the file: two minutes at most, as loading a large group
// takes a while.
func launch(ctx context.Context, ps *benchproc.Procs, dir, name string, env []string, argv ...string) (*process, benchproc.ReadyFile, error) {
	if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
		return nil, benchproc.ReadyFile{}, err
	}
	p, rf, err := ps.StartReady(ctx, name, -1, env, filepath.Join(dir, name, "ready.json"), 2*time.Minute, argv...)
	if err != nil {
		return nil, rf, fmt.Errorf("%s: %w", name, err)
	}
	return &process{Proc: p, ps: ps, status: "http://" + rf.Status}, rf, nil
}

// stop asks the process to end, and kills it after 20 s.
func (p *process) stop() { p.ps.Stop(p.Proc, 20*time.Second) }

// memory is what /proc/PID/status says of a process's memory (Linux).
type memory struct {
	rss  int64 // resident now, bytes
	file int64 // of it, pages of files (the binary's code and data, shared and reclaimable)
	peak int64 // the most ever resident
}

func (p *process) memory() memory {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return memory{}
	}
	s := string(b)
	return memory{rss: benchproc.StatusBytes(s, "VmRSS"), file: benchproc.StatusBytes(s, "RssFile"), peak: benchproc.StatusBytes(s, "VmHWM")}
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

func (p *process) joinToken(ctx context.Context) (string, error) {
	var tok struct{ Token string }
	err := p.api.Post(ctx, "/gateway-groups/"+benchGroup+"/tokens", map[string]string{"name": "bench"}, &tok)
	return tok.Token, err
}

func (p *process) groupRevision(ctx context.Context) (int64, error) {
	var g struct{ Revision int64 }
	err := p.api.Get(ctx, "/gateway-groups/"+benchGroup, nil, &g)
	return g.Revision, err
}

// publish publishes a new version of the service and answers the
// group's new revision.
func (p *process) publish(ctx context.Context, service, version string) (int64, error) {
	var out struct{ Revision int64 }
	err := p.api.Post(ctx, "/projects/"+benchProject+"/services/"+service+"/publish",
		map[string]string{"group": benchGroup, "version": version}, &out)
	return out.Revision, err
}

// feedSize is the size of one feed answer.
type feedSize struct{ raw, gzip int }

// feed polls the feed as a gateway serving after would, and answers the
// answer's size and the consumers' digest it carries.
func (p *process) feed(ctx context.Context, token string, after int64, consumers string) (feedSize, string, error) {
	u := fmt.Sprintf("%s/feed/v1/groups/%s?after=%d", p.api.Base, benchGroup, after)
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
				return fmt.Errorf("a gateway still serves revision %d, not %d, after %s (%v): %s", got, rev, limit, err, g.Tail())
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
