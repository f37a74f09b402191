// Package benchproc is what the benchmark programs under bench/ share
// about the processes they run: starting a child pinned to a CPU with
// taskset, stopping it with its process group, reading its CPU time and
// resident memory (children included) and the machine's busy time from
// /proc, and building, starting and logging in to a `portico server`.
// It lives in one place so bench/runner, bench/stream and bench/publish
// measure the same way and a fix to one measurement reaches all of them.
package benchproc

import (
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

// Proc is one long-lived child process a benchmark started (an origin, a
// proxy under test, a redis-server, a portico).
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string        // its stdout and stderr
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done
}

// Pid is the process's id (its process group's too).
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (Wait's result), once Exited.
func (p *Proc) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Tail is the end of the process's log, so a failed start explains itself.
func (p *Proc) Tail() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return strings.TrimSpace(string(b))
}

// Procs starts children and kills whatever is left when the benchmark
// ends (KillAll, deferred by the caller), so no server or proxy outlives
// it.
type Procs struct {
	Dir     string // where the logs go
	Taskset string // taskset's path; empty: no pinning
	mu      sync.Mutex
	list    []*Proc
	seq     int
}

// Pin prefixes argv with taskset when taskset is set and cpu >= 0: the
// affinity is inherited by children (nginx's worker) and Go's runtime
// follows it (GOMAXPROCS 1 on one CPU), as the benchmarking method asks.
func Pin(taskset string, cpu int, argv []string) []string {
	if cpu < 0 || taskset == "" {
		return argv
	}
	return append([]string{taskset, "-c", strconv.Itoa(cpu)}, argv...)
}

// Pinned is Pin with the Procs' taskset.
func (ps *Procs) Pinned(cpu int, argv []string) []string { return Pin(ps.Taskset, cpu, argv) }

// Start runs argv (pinned to cpu, see Pinned) with env added to the
// environment and its output in a numbered log file under Dir. The process
// gets its own process group, so Stop reaches its children too, and
// SIGKILL (Pdeathsig) when the benchmark itself dies without cleaning up.
func (ps *Procs) Start(name string, cpu int, env []string, argv ...string) (*Proc, error) {
	ps.mu.Lock()
	ps.seq++
	logPath := filepath.Join(ps.Dir, fmt.Sprintf("%03d-%s.log", ps.seq, name))
	ps.mu.Unlock()
	argv = ps.Pinned(cpu, argv)
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
	p := &Proc{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// Stop sends SIGTERM to the process group, waits up to grace, then kills
// the group (children left behind, nginx's workers, go too). Only
// processes this benchmark started are signalled.
func (ps *Procs) Stop(p *Proc, grace time.Duration) {
	if p == nil {
		return
	}
	pgid := -p.Pid()
	if !p.Exited() {
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

// KillAll stops every process still running, all at once.
func (ps *Procs) KillAll() {
	ps.mu.Lock()
	list := append([]*Proc(nil), ps.list...)
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		wg.Go(func() { ps.Stop(p, 2*time.Second) })
	}
	wg.Wait()
}

// FreeAddr is a loopback address, and its port, free right now: for
// programs (nginx, redis-server, the origin) that cannot be given port 0
// and then tell which port they took.
func FreeAddr() (addr string, port int, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, err
	}
	defer ln.Close()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port, nil
}
