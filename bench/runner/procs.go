package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process the runner started.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return strings.TrimSpace(string(b))
}

// procs starts child processes, optionally pinned to a CPU with taskset, and
// kills whatever is still running when the runner ends (killAll is deferred
// in run, and the runner's signal handling cancels the context first).
type procs struct {
	dir     string // where logs go
	taskset string // path of taskset; empty: no pinning
	mu      sync.Mutex
	list    []*proc
	seq     int
}

// start runs argv (pinned to cpu when cpu >= 0 and taskset is available)
// with its output in a log file under the runner's temp dir. The process
// gets its own process group, so stop reaches its children too, and
// SIGKILL when the runner dies.
func (ps *procs) start(name string, cpu int, env []string, argv ...string) (*proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.dir, fmt.Sprintf("%02d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	if cpu >= 0 && ps.taskset != "" {
		argv = append([]string{ps.taskset, "-c", strconv.Itoa(cpu)}, argv...)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// stop sends SIGTERM to the process group, waits up to grace, then kills it.
func (ps *procs) stop(p *proc, grace time.Duration) {
	if p == nil {
		return
	}
	pgid := -p.pid()
	if !p.exited() {
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	// Children left behind in the group (nginx workers) go too.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	ps.mu.Lock()
	for i, q := range ps.list {
		if q == p {
			ps.list = append(ps.list[:i], ps.list[i+1:]...)
			break
		}
	}
	ps.mu.Unlock()
}

// killAll stops every process still running.
func (ps *procs) killAll() {
	ps.mu.Lock()
	list := append([]*proc(nil), ps.list...)
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		wg.Go(func() { ps.stop(p, 2*time.Second) })
	}
	wg.Wait()
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url until it answers want (any status when want is 0), the
// process exits, or limit passes.
func waitHTTP(ctx context.Context, p *proc, url string, want int, limit time.Duration) error {
	return waitHTTPWith(ctx, p, url, nil, false, want, limit)
}

// waitHTTPWith is waitHTTP with request headers ("Name: value"), over
// HTTP/2 when h2 is set (an https URL).
func waitHTTPWith(ctx context.Context, p *proc, url string, headers []string, h2 bool, want int, limit time.Duration) error {
	client := checkClient(time.Second, h2)
	deadline := time.Now().Add(limit)
	last := "no answer"
	for {
		req, err := newGet(ctx, url, headers)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if want == 0 || resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited (%v) before %s answered:\n%s", p.name, p.err, url, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %d within %v (last: %s)", url, want, limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newGet is a GET of url carrying headers ("Name: value" lines).
func newGet(ctx context.Context, url string, headers []string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("header %q: want Name: value", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return req, nil
}

// clockTicks is the unit of /proc/<pid>/stat times (sysconf(_SC_CLK_TCK)).
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// statFields returns the fields of /proc/<pid>/stat after the command name
// (fields[0] is the state, field 3 of proc(5)).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return nil, errors.New("short stat")
	}
	return f, nil
}

// cpuOf is the user+system CPU time of pid alone.
func cpuOf(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // utime, field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // stime, field 15
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime/stime")
	}
	return time.Duration(float64(ut+st) / clockTicks * float64(time.Second)), nil
}

// descendants returns pid and every living process below it.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(n)
		if err != nil {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], n)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// treeCPU is the CPU time used so far by the processes (and their
// descendants, e.g. nginx master + worker). A process that has already
// exited counts nothing.
func treeCPU(ps ...*proc) time.Duration {
	var sum time.Duration
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, pid := range descendants(p.pid()) {
			if d, err := cpuOf(pid); err == nil {
				sum += d
			}
		}
	}
	return sum
}

// systemBusy is the busy time of all CPUs together from /proc/stat, so the
// CPU used by other tenants during a run can be estimated.
func systemBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for i, v := range f[1:] {
		// user nice system idle iowait irq softirq steal (guest is in user)
		if i == 3 || i == 4 || i > 7 {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		busy += n
	}
	return time.Duration(float64(busy) / clockTicks * float64(time.Second))
}
