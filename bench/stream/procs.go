package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one long-lived child process the benchmark started (redis-server,
// nginx, portico).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the end of the process's log, so a failed start explains itself.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// procs starts children and kills whatever is left when the benchmark
// ends, so no redis-server or proxy outlives it.
type procs struct {
	dir     string // logs go here
	taskset string // taskset's path; empty: no pinning
	mu      sync.Mutex
	list    []*proc
	seq     int
}

// pinned prefixes argv with taskset when pinning is on and cpu >= 0: the
// affinity is inherited by children (nginx's worker) and Go's runtime
// follows it (GOMAXPROCS 1 on one CPU), as BENCHMARKING.md asks.
func (ps *procs) pinned(cpu int, argv []string) []string {
	if cpu < 0 || ps.taskset == "" {
		return argv
	}
	return append([]string{ps.taskset, "-c", strconv.Itoa(cpu)}, argv...)
}

// start runs argv in its own process group (stop reaches nginx's worker
// too) with its output in a log file; Pdeathsig kills it if the benchmark
// itself dies without cleaning up.
func (ps *procs) start(name string, cpu int, env []string, argv ...string) (*proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.dir, fmt.Sprintf("%03d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	argv = ps.pinned(cpu, argv)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
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

// stop sends SIGTERM to the process group, waits up to grace, then kills
// the group: only processes this benchmark started are signalled.
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

func (ps *procs) killAll() {
	ps.mu.Lock()
	list := append([]*proc(nil), ps.list...)
	ps.mu.Unlock()
	for _, p := range list {
		ps.stop(p, 2*time.Second)
	}
}

// freeAddr is a loopback address whose port is free right now (nginx and
// redis-server cannot be asked for port 0 and then tell us which).
func freeAddr() (string, int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, err
	}
	defer ln.Close()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port, nil
}

// clockTicks is the unit of /proc/<pid>/stat's times.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// statFields are the fields of /proc/<pid>/stat after the command name
// (which may hold spaces and parentheses, hence the last ')').
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	return parseStat(string(b))
}

func parseStat(s string) ([]string, error) {
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

// statCPU is utime + stime of a stat line (fields 14 and 15 of proc(5)),
// every thread of the process included.
func statCPU(f []string) (time.Duration, error) {
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime/stime")
	}
	return time.Duration(float64(ut+st) / clockTicks * float64(time.Second)), nil
}

// descendants is pid and every living process below it.
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

// treeCPU is the CPU used so far by the processes and their descendants
// (nginx's master and worker; portico has none).
func treeCPU(ps ...*proc) time.Duration {
	var sum time.Duration
	for _, p := range ps {
		for _, pid := range descendants(p.pid()) {
			if f, err := statFields(pid); err == nil {
				if d, err := statCPU(f); err == nil {
					sum += d
				}
			}
		}
	}
	return sum
}

// treeRSS sums VmRSS over the processes and their descendants (for nginx
// the master's pages count once more than they cost: they are shared).
func treeRSS(ps ...*proc) int64 {
	var sum int64
	for _, p := range ps {
		for _, pid := range descendants(p.pid()) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				sum += parseVmRSS(string(b))
			}
		}
	}
	return sum
}

// parseVmRSS reads VmRSS (in kB) out of /proc/<pid>/status, in bytes.
func parseVmRSS(status string) int64 {
	for line := range strings.SplitSeq(status, "\n") {
		v, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cpuBusy is the busy time of all CPUs ("cpu", cpu < 0) or of one
// ("cpuN") from /proc/stat, so the CPU the machine's other tenants took
// during a run can be estimated and a noisy round spotted.
func cpuBusy(cpu int) time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseCPUBusy(string(b), cpu)
}

func parseCPUBusy(stat string, cpu int) time.Duration {
	want := "cpu"
	if cpu >= 0 {
		want += strconv.Itoa(cpu)
	}
	for line := range strings.SplitSeq(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != want {
			continue
		}
		var busy uint64
		for i, v := range f[1:] {
			// user nice system idle iowait irq softirq steal; guest is in user
			if i == 3 || i == 4 || i > 7 {
				continue
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			busy += n
		}
		return time.Duration(float64(busy) / clockTicks * float64(time.Second))
	}
	return 0
}
