package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// loadSpec is one load shape: connections and pipeline depth.
type loadSpec struct {
	conns    int
	pipeline int
	requests int // per test (-n)
}

func (l loadSpec) String() string {
	return fmt.Sprintf("c=%d -P %d", l.conns, l.pipeline)
}

// benchRow is one line of redis-benchmark --csv.
type benchRow struct {
	test         string  // PING_MBULK, SET, GET, …
	rps          float64 // requests per second
	p50ms, p99ms float64
	avgms, maxms float64
	requests     int64 // -n: every row of an invocation ran n requests
}

// parseBenchCSV reads redis-benchmark's --csv output: a header naming the
// columns, then one line per test. Columns are found by name, so an older
// or newer redis-benchmark that adds or moves columns still parses; one
// without a latency column leaves it 0. Anything that is not CSV (a
// warning printed before the header) is skipped.
func parseBenchCSV(out []byte) ([]benchRow, error) {
	var lines []string
	header := -1
	for line := range strings.SplitSeq(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, `"test",`) {
			header = len(lines)
		}
		if header >= 0 {
			lines = append(lines, line)
		}
	}
	if header < 0 {
		return nil, errors.New("no CSV header in redis-benchmark's output")
	}
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark CSV: %w", err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	if _, ok := col["rps"]; !ok {
		return nil, errors.New("redis-benchmark CSV has no rps column")
	}
	num := func(rec []string, name string) (float64, error) {
		i, ok := col[name]
		if !ok {
			return 0, nil
		}
		if i >= len(rec) {
			return 0, fmt.Errorf("line %q has no %s", strings.Join(rec, ","), name)
		}
		return strconv.ParseFloat(rec[i], 64)
	}
	var rows []benchRow
	for _, rec := range recs[1:] {
		row := benchRow{test: rec[0]}
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"rps", &row.rps}, {"p50_latency_ms", &row.p50ms}, {"p99_latency_ms", &row.p99ms},
			{"avg_latency_ms", &row.avgms}, {"max_latency_ms", &row.maxms}} {
			v, err := num(rec, f.name)
			if err != nil {
				return nil, fmt.Errorf("redis-benchmark CSV, %s: %w", row.test, err)
			}
			*f.dst = v
		}
		if row.rps <= 0 {
			return nil, fmt.Errorf("redis-benchmark CSV: %s reports %v requests/s", row.test, row.rps)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errors.New("redis-benchmark CSV has no test line")
	}
	return rows, nil
}

// benchTool runs redis-benchmark pinned to the load CPU (with the backend,
// as BENCHMARKING.md puts origin and load generator together on core 0).
type benchTool struct {
	path    string // redis-benchmark
	timeout string // timeout(1)
	ps      *benchproc.Procs
	cpu     int
	limit   time.Duration // one invocation's bound
}

// run drives 127.0.0.1:port with n requests of one -t selection and
// returns the CSV rows and the CPU redis-benchmark used. Every invocation
// is bounded twice: by timeout(1) (which kills it however it hangs) and by
// ctx, which kills the whole process group.
func (b *benchTool) run(ctx context.Context, port int, tests string, l loadSpec, n int) ([]benchRow, time.Duration, error) {
	secs := strconv.Itoa(int(b.limit.Seconds()))
	argv := []string{b.timeout, "-k", "5", secs}
	argv = append(argv, b.ps.Pinned(b.cpu, []string{b.path,
		"-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", strconv.Itoa(l.conns), "-n", strconv.Itoa(n),
		"-P", strconv.Itoa(l.pipeline), "-t", tests, "--csv"})...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var used time.Duration
	if st := cmd.ProcessState; st != nil {
		// timeout waited for redis-benchmark, so its rusage includes it.
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			used = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, used, ctx.Err()
		}
		if st := cmd.ProcessState; st != nil && st.ExitCode() == 124 {
			err = fmt.Errorf("killed after %s (-run-timeout)", b.limit)
		}
		return nil, used, fmt.Errorf("redis-benchmark -t %s %s: %v: %s", tests, l, err,
			strings.TrimSpace(errb.String()+" "+out.String()))
	}
	rows, err := parseBenchCSV(out.Bytes())
	if err != nil {
		return nil, used, fmt.Errorf("redis-benchmark -t %s %s: %w (stderr: %s)", tests, l, err, strings.TrimSpace(errb.String()))
	}
	for i := range rows {
		rows[i].requests = int64(n)
	}
	return rows, used, nil
}

// pingOnce sends one RESP PING over a fresh connection to addr and wants
// +PONG back: a relay that is listening but not yet routing (a publish
// not yet applied) fails it, so nothing is measured before it works.
func pingOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no answer to PING: %w", err)
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// waitPing retries pingOnce every 20 ms until it succeeds, the process
// (when given) exits, or limit passes.
func waitPing(ctx context.Context, p *benchproc.Proc, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := pingOnce(addr)
		if err == nil {
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited (%v) before %s answered PING:\n%s", p.Name, p.Err(), addr, p.Tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer PING within %s: %v", addr, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
