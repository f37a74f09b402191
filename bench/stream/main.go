// Command stream measures Portico's layer-4 relay (a stream service on a
// stream listener, docs/gateway.md) beside nginx's stream module and a
// direct connection, with redis-benchmark against a private redis-server.
// The method is /work/shared/BENCHMARKING.md's (docs/benchmark.md): the
// proxy pinned alone to CPU 1, backend and load generator on CPU 0, every
// target started fresh per run, targets interleaved in an order that
// rotates, medians of rounds, and the proxy's CPU per request as the
// figure that survives a shared machine.
//
//	go run ./bench/stream                 # 3 rounds, 200 000 requests, c=50 and 200, -P 16
//	go run ./bench/stream -quick          # one short round, to check it works
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench/stream: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// options are the command line's.
type options struct {
	rounds, requests, warmup int
	loads                    []loadSpec
	tests, targets           []string
	proxyCPU, loadCPU        int
	runTimeout, maxTime      time.Duration
	cpuprofile, nginxModule  string
	profileSeconds           int
	keep                     bool
}

func parseFlags() (options, error) {
	rounds := flag.Int("rounds", 3, "interleaved rounds; every target runs once per round and load")
	requests := flag.Int("requests", 200000, "requests per redis-benchmark test (-n)")
	conns := flag.String("connections", "50,200", "comma-separated client connections (-c), one unpipelined load each")
	pipeline := flag.Int("pipeline", 16, "depth of the extra pipelined load (-P), for throughput; 0 or 1: none")
	pipeConns := flag.Int("pipeline-connections", 50, "connections of the pipelined load")
	// A pipelined request costs a proxy ~2 µs: with -requests alone the
	// 10 ms ticks of /proc/<pid>/stat would be a coarse measure of it.
	pipeRequests := flag.Int("pipeline-requests", 1000000, "requests per test of the pipelined load")
	tests := flag.String("tests", "ping_mbulk,set,get", "redis-benchmark -t selections, each run and measured on its own")
	targets := flag.String("targets", "direct,nginx-stream,portico-stream", "rows: direct, nginx-stream, portico-stream")
	warmup := flag.Int("warmup", 10000, "PINGs sent through a fresh target before it is measured (not counted)")
	quick := flag.Bool("quick", false, "a short check: 1 round, 20000 requests, c=50, warm-up 2000 (flags given explicitly win)")
	proxyCPU := flag.Int("proxy-cpu", 1, "CPU the proxy is pinned to (-1: not pinned)")
	loadCPU := flag.Int("load-cpu", 0, "CPU redis-server and redis-benchmark are pinned to (-1: not pinned)")
	runTimeout := flag.Duration("run-timeout", 2*time.Minute, "bound on one redis-benchmark invocation (timeout(1))")
	maxTime := flag.Duration("max-time", 30*time.Minute, "bound on the whole benchmark")
	module := flag.String("nginx-stream-module", "/usr/lib/nginx/modules/ngx_stream_module.so", "nginx's stream module (Debian: libnginx-mod-stream)")
	cpuprofile := flag.String("cpuprofile", "", "after the rounds, write a CPU profile of portico-stream under a GET load here")
	profileSeconds := flag.Int("profile-seconds", 5, "length of the -cpuprofile profile")
	keep := flag.Bool("keep", false, "keep the temp dir (logs, configs) and print its path")
	flag.Parse()

	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"rounds": "1", "requests": "20000", "connections": "50", "warmup": "2000", "pipeline-requests": "100000"} {
			if !set[name] {
				_ = flag.Set(name, v)
			}
		}
	}
	o := options{rounds: *rounds, requests: *requests, warmup: *warmup, proxyCPU: *proxyCPU, loadCPU: *loadCPU,
		runTimeout: *runTimeout, maxTime: *maxTime, cpuprofile: *cpuprofile, nginxModule: *module,
		profileSeconds: *profileSeconds, keep: *keep, tests: splitList(*tests), targets: splitList(*targets)}
	// Bounds keep every loop finite however the flags are set.
	switch {
	case o.rounds < 1 || o.rounds > 20:
		return o, errors.New("-rounds must be 1..20")
	case o.requests < 1 || o.requests > 10_000_000:
		return o, errors.New("-requests must be 1..10000000")
	case o.warmup < 0 || o.warmup > 1_000_000:
		return o, errors.New("-warmup must be 0..1000000")
	case o.runTimeout < time.Second || o.maxTime < time.Second:
		return o, errors.New("-run-timeout and -max-time must be at least 1s")
	case o.profileSeconds < 1 || o.profileSeconds > 60:
		return o, errors.New("-profile-seconds must be 1..60")
	case len(o.tests) == 0:
		return o, errors.New("-tests is empty")
	}
	for _, c := range splitList(*conns) {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > 10000 {
			return o, fmt.Errorf("-connections: %q is not 1..10000", c)
		}
		o.loads = append(o.loads, loadSpec{conns: n, pipeline: 1, requests: o.requests})
	}
	if *pipeline > 1 {
		if *pipeConns < 1 || *pipeConns > 10000 || *pipeline > 1000 || *pipeRequests < 1 || *pipeRequests > 100_000_000 {
			return o, errors.New("-pipeline-connections must be 1..10000, -pipeline 0..1000, -pipeline-requests 1..100000000")
		}
		o.loads = append(o.loads, loadSpec{conns: *pipeConns, pipeline: *pipeline, requests: *pipeRequests})
	}
	if len(o.loads) == 0 {
		return o, errors.New("no load: -connections is empty and there is no pipelined load")
	}
	for _, t := range o.targets {
		if _, ok := targetByName(t); !ok {
			return o, fmt.Errorf("-targets: unknown %q", t)
		}
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()

	tmp, err := os.MkdirTemp("", "bench-stream-")
	if err != nil {
		return err
	}
	if o.keep {
		log.Printf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	ps := &benchproc.Procs{Dir: tmp}
	if o.proxyCPU >= 0 || o.loadCPU >= 0 {
		if ps.Taskset, err = exec.LookPath("taskset"); err != nil {
			log.Printf("taskset not found: nothing is pinned")
		}
	}
	defer ps.KillAll()

	need := map[string]string{}
	for _, name := range []string{"redis-server", "redis-benchmark", "timeout"} {
		p, err := exec.LookPath(name)
		if err != nil {
			return fmt.Errorf("%s is needed (apt-get install redis-server coreutils): %w", name, err)
		}
		need[name] = p
	}
	e := &env{ps: ps, tmp: tmp, proxyCPU: o.proxyCPU, nginxModule: o.nginxModule, nginx: lookNginx()}
	if slices.Contains(o.targets, "portico-stream") || o.cpuprofile != "" {
		e.porticoBin, e.porticoErr = benchproc.BuildPortico(ctx, tmp)
		if e.porticoErr != nil {
			log.Printf("%v", e.porticoErr)
		}
	}
	backend, err := startBackend(ctx, e, need["redis-server"], o.loadCPU)
	if err != nil {
		return err
	}
	bt := &benchTool{path: need["redis-benchmark"], timeout: need["timeout"], ps: ps, cpu: o.loadCPU, limit: o.runTimeout}

	printFacts(o, e, need["redis-server"])
	var runs []runResult
	var notes []string
	skipped := map[string]bool{}
	for round := range o.rounds {
		for li, l := range o.loads {
			// Rotate the order each round (and per load), so no target
			// always runs first after a quiet spell or last in a busy one.
			n := len(o.targets)
			for i := range n {
				t, _ := targetByName(o.targets[(i+round+li)%n])
				if skipped[t.name] {
					continue
				}
				if ctx.Err() != nil {
					// What was measured is still worth printing.
					writeReport(os.Stdout, runs, o.loads, o.targets, notes)
					return fmt.Errorf("stopped: %w", ctx.Err())
				}
				r := runOne(ctx, e, bt, backend, t, l, o)
				r.round = round
				var skip errSkip
				if errors.As(r.err, &skip) {
					skipped[t.name] = true
					notes = append(notes, fmt.Sprintf("%s skipped: %s", t.name, skip))
					log.Printf("%s skipped: %s", t.name, skip)
					continue
				}
				logRun(r)
				runs = append(runs, r)
			}
		}
	}
	writeReport(os.Stdout, runs, o.loads, o.targets, notes)
	if o.cpuprofile != "" {
		if err := profilePortico(ctx, e, bt, o); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
	}
	return nil
}

// lookNginx finds nginx in PATH or in /usr/sbin, which a non-root PATH
// often lacks.
func lookNginx() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// runOne starts t fresh, warms it up, runs every test through it and
// takes the CPU of the proxy, the backend, the load generator and the
// whole machine around each test.
func runOne(ctx context.Context, e *env, bt *benchTool, backend *benchproc.Proc, t target, l loadSpec, o options) runResult {
	r := runResult{load: l, target: t.name}
	inst, err := t.start(ctx, e)
	if err != nil {
		r.err = err
		return r
	}
	defer inst.stop()
	r.proxied = len(inst.measured) > 0
	if o.warmup > 0 {
		if _, _, err := bt.run(ctx, inst.port, "ping_mbulk", l, o.warmup); err != nil {
			r.err = fmt.Errorf("warm-up: %w", err)
			return r
		}
	}
	for _, test := range o.tests {
		p0, b0, s0, c0, t0 := benchproc.TreeCPU(inst.measured...), benchproc.TreeCPU(backend), benchproc.CPUBusy(-1), benchproc.CPUBusy(e.pinnedProxyCPU()), time.Now()
		rows, loadgen, err := bt.run(ctx, inst.port, test, l, l.requests)
		wall := time.Since(t0)
		p1, b1, s1, c1 := benchproc.TreeCPU(inst.measured...), benchproc.TreeCPU(backend), benchproc.CPUBusy(-1), benchproc.CPUBusy(e.pinnedProxyCPU())
		if err != nil {
			r.err = err
			return r
		}
		proxy, back := p1-p0, b1-b0
		// What else ran: on the whole machine, and on the proxy's own
		// core (which the method means to be the proxy's alone).
		others := max(0, s1-s0-proxy-back-loadgen)
		var onProxyCPU time.Duration = -1
		if e.pinnedProxyCPU() >= 0 {
			onProxyCPU = max(0, c1-c0-proxy)
		}
		k := time.Duration(len(rows))
		for _, row := range rows {
			r.samples = append(r.samples, sample{test: row.test, rps: row.rps, p50ms: row.p50ms, p99ms: row.p99ms,
				requests: row.requests, proxyCPU: proxy / k, backendCPU: back / k, wall: wall / k,
				others: others / k, othersOnProxyCPU: onProxyCPU / k})
		}
	}
	r.rss = benchproc.TreeRSS(inst.measured...)
	return r
}

// logRun prints a run's figures as they come, on stderr, so a long run
// shows progress and a noisy round can be seen.
func logRun(r runResult) {
	if r.err != nil {
		log.Printf("round %d, %s, %s: %v", r.round+1, r.load, r.target, r.err)
		return
	}
	var parts []string
	for _, s := range r.samples {
		p := fmt.Sprintf("%s %s/s", s.test, group(s.rps))
		if r.proxied {
			p += fmt.Sprintf(" %s µs", fixed(perReq(s.proxyCPU, s.requests), 1))
		}
		parts = append(parts, p)
	}
	log.Printf("round %d, %s, %s: %s", r.round+1, r.load, r.target, strings.Join(parts, ", "))
}

// printFacts heads the report with what the figures depend on.
func printFacts(o options, e *env, redisServer string) {
	fmt.Printf("## bench/stream, %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("- command: `go run ./bench/stream %s`\n", strings.Join(os.Args[1:], " "))
	var per []string
	for _, l := range o.loads {
		per = append(per, fmt.Sprintf("%s: %d", l, l.requests))
	}
	fmt.Printf("- rounds: %d, loads: %d; requests per test (%s) %s; warm-up %d PINGs per fresh target\n",
		o.rounds, len(o.loads), strings.Join(o.tests, ", "), strings.Join(per, ", "), o.warmup)
	pin := "not pinned"
	if e.ps.Taskset != "" {
		pin = fmt.Sprintf("proxy on CPU %d, redis-server and redis-benchmark on CPU %d", o.proxyCPU, o.loadCPU)
	}
	fmt.Printf("- %s, %d CPUs, %s; %s\n", runtime.Version(), runtime.NumCPU(), pin, toolVersions(e, redisServer))
}

func toolVersions(e *env, redisServer string) string {
	v := []string{}
	if out, err := exec.Command(redisServer, "--version").Output(); err == nil {
		f := strings.Fields(string(out))
		for _, w := range f {
			if s, ok := strings.CutPrefix(w, "v="); ok {
				v = append(v, "redis "+s)
			}
		}
	}
	if e.nginx != "" {
		if out, err := exec.Command(e.nginx, "-v").CombinedOutput(); err == nil {
			if _, s, ok := strings.Cut(strings.TrimSpace(string(out)), "version: "); ok {
				v = append(v, s)
			}
		}
	}
	return strings.Join(v, ", ")
}

// profilePortico starts one more fresh portico-stream, with /debug/pprof/
// on, drives it with GETs for longer than the profile and saves a CPU
// profile taken in the middle. The load is bounded by timeout(1) and
// cancelled once the profile is in.
func profilePortico(ctx context.Context, e *env, bt *benchTool, o options) error {
	e.profiling = true
	defer func() { e.profiling = false }()
	inst, err := startPorticoStream(ctx, e)
	if err != nil {
		return err
	}
	defer inst.stop()
	l := o.loads[0]
	lbt := *bt
	lbt.limit = time.Duration(o.profileSeconds+10) * time.Second
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = lbt.run(lctx, inst.port, "get", l, 100_000_000)
	}()
	select {
	case <-time.After(500 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	client := &http.Client{Timeout: time.Duration(o.profileSeconds+20) * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", inst.status, o.profileSeconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(o.cpuprofile)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(resp.Body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	cancel()
	<-done
	log.Printf("CPU profile of portico-stream under GET %s written to %s (go tool pprof -top %s)", l, o.cpuprofile, o.cpuprofile)
	return nil
}
