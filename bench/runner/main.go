// Command runner is Portico's side-by-side benchmark (`make bench`): it
// builds Portico, a minimal origin, the httputil reference proxy and the
// relay floor (bench/relayfloor: relays with no HTTP work), then
// measures the origin alone, nginx and HAProxy (when installed), the
// reference and Portico's engines (net/http, fast, fast with the gateway
// policies on the route) with wrk (or a built-in load generator), the
// proxy pinned to its own core, rounds interleaved, and prints medians of
// throughput, latency, CPU time and allocations per request with the
// ratios to nginx and to the reference, and the performance goals beside them.
// docs/benchmark.md describes the method and the goals.
//
// The TLS rows (nginx-https, portico-fast-https, nginx-handshake,
// portico-fast-handshake, nginx-h2, portico-h2) put nginx and Portico
// behind one ECDSA P-256 certificate and are reported in a table of their
// own: HTTPS keep-alive requests (wrk), new connections each with a full
// handshake (the runner's own driver) and HTTP/2 requests (h2load).
//
//	go run ./bench/runner [-rounds 3] [-duration 5s] [-connections 50,200] [-targets direct,nginx,…]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

type config struct {
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	connections []int
	targets     []target
	timeout     time.Duration
	proxyCPU    int
	loadCPU     int
	loader      string
	originMode  string
	porticoArgs []string
	keep        bool
	h2Streams   int // h2load -m
	// idleConns: measure holding this many idle keep-alive connections
	// (idleconns.go) instead of load.
	idleConns []int
}

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	rounds := fs.Int("rounds", 3, "rounds; targets are interleaved and their order rotates each round")
	duration := fs.Duration("duration", 5*time.Second, "measured load per run")
	warmup := fs.Duration("warmup", time.Second, "unmeasured load before each run")
	conns := fs.String("connections", "50", "comma-separated connection counts (wrk -c), e.g. 50,200")
	targets := fs.String("targets", defaultTargets, "targets to measure, in first-round order: "+targetNames())
	// 16 rows × 2 connection counts × 3 rounds of 12 s are 20 minutes of
	// load alone, before builds and starts.
	timeout := fs.Duration("timeout", 40*time.Minute, "the whole benchmark is stopped after this")
	proxyCPU := fs.Int("proxy-cpu", 1, "CPU the proxy under test is pinned to (-1: no pinning)")
	loadCPU := fs.Int("load-cpu", 0, "CPU the load generator, the origin and the runner are pinned to")
	loader := fs.String("loader", "auto", "auto (wrk when installed), wrk or go")
	originMode := fs.String("origin", "raw", "origin server: raw (minimal HTTP/1.1) or nethttp")
	porticoArgs := fs.String("portico-args", "", "extra arguments for `portico server`, space-separated (e.g. --log-level warn)")
	keep := fs.Bool("keep", false, "keep the temp dir (logs, configs) and print its path")
	h2Streams := fs.Int("h2-streams", 10, "concurrent streams per connection of the HTTP/2 rows (h2load -m)")
	idleConns := fs.String("idle-conns", "", "comma-separated idle keep-alive connection counts (e.g. 10000,50000): measure the memory each costs the targets instead of load")
	lg := registerLoadgenFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *lg.url != "" { // child mode: the built-in load generator
		gen := loadgenMain
		if *lg.mode == "handshake" {
			gen = handshakeMain
		}
		if err := gen(*lg.url, *lg.headers, *lg.conns, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 1
		}
		return 0
	}

	cfg := config{rounds: *rounds, duration: *duration, warmup: *warmup, timeout: *timeout,
		proxyCPU: *proxyCPU, loadCPU: *loadCPU, loader: *loader, originMode: *originMode,
		porticoArgs: strings.Fields(*porticoArgs), keep: *keep, h2Streams: *h2Streams}
	if err := cfg.check(*conns, *targets, *idleConns); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if err := bench(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		return 1
	}
	return 0
}

func (c *config) check(conns, targets, idleConns string) error {
	if c.rounds < 1 || c.rounds > 50 {
		return fmt.Errorf("-rounds %d: want 1 to 50", c.rounds)
	}
	if c.duration < time.Second || c.duration > 10*time.Minute {
		return fmt.Errorf("-duration %v: want 1s to 10m", c.duration)
	}
	if c.warmup < 0 || c.warmup > time.Minute {
		return fmt.Errorf("-warmup %v: want 0 to 1m", c.warmup)
	}
	for s := range strings.SplitSeq(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 10000 {
			return fmt.Errorf("-connections %q: want numbers from 1 to 10000", conns)
		}
		c.connections = append(c.connections, n)
	}
	for s := range strings.SplitSeq(idleConns, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 200000 {
			return fmt.Errorf("-idle-conns %q: want numbers from 1 to 200000", idleConns)
		}
		c.idleConns = append(c.idleConns, n)
	}
	seen := map[string]bool{}
	for s := range strings.SplitSeq(targets, ",") {
		name := strings.TrimSpace(s)
		t, ok := targetByName(name)
		if !ok {
			return fmt.Errorf("-targets: unknown %q (%s)", name, targetNames())
		}
		if !seen[t.name] {
			c.targets = append(c.targets, t)
			seen[t.name] = true
		}
	}
	switch c.loader {
	case "auto", "wrk", "go":
	default:
		return fmt.Errorf("-loader %q: want auto, wrk or go", c.loader)
	}
	if c.originMode != "raw" && c.originMode != "nethttp" {
		return fmt.Errorf("-origin %q: want raw or nethttp", c.originMode)
	}
	if c.h2Streams < 1 || c.h2Streams > 1000 {
		return fmt.Errorf("-h2-streams %d: want 1 to 1000", c.h2Streams)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// bench runs the whole benchmark; every process it starts is gone when it
// returns, on success, error or signal alike.
func bench(ctx context.Context, cfg config) error {
	root, err := benchproc.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		defer logf("kept %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	ps := &benchproc.Procs{Dir: tmp}
	defer ps.KillAll()

	nproc := runtime.NumCPU() // before the runner pins itself
	if p, err := exec.LookPath("taskset"); err == nil && cfg.proxyCPU >= 0 && nproc >= 2 {
		ps.Taskset = p
	} else {
		cfg.proxyCPU, cfg.loadCPU = -1, -1
	}
	e := &env{ps: ps, tmp: tmp, root: root, proxyCPU: cfg.proxyCPU, porticoArgs: cfg.porticoArgs,
		// A client and an upstream connection per request in flight.
		nginxWorkerConns: 2*slices.Max(cfg.connections) + 1024}
	if p, err := exec.LookPath("nginx"); err == nil {
		e.nginx, e.nginxVersion = p, nginxVersion(p)
	}
	if slices.ContainsFunc(cfg.targets, func(t target) bool { return t.load != loadPlain }) {
		if e.cert, err = writeBenchCert(filepath.Join(tmp, "tls")); err != nil {
			return fmt.Errorf("bench certificate: %w", err)
		}
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		e.haproxy = p
	}
	needPortico := slices.ContainsFunc(cfg.targets, func(t target) bool { return t.portico })
	logf("building origin, refproxy, relayfloor%s in %s", map[bool]string{true: ", portico", false: ""}[needPortico], tmp)
	if err := buildAll(ctx, e, needPortico); err != nil {
		return err
	}
	if err := e.buildErrs["portico"]; err != nil {
		logf("portico will be skipped: %v", err)
	} else if bin := e.bins["portico"]; bin != "" {
		known, err := porticoKnowsEngine(ctx, bin)
		e.engineFlag = known
		switch {
		case err != nil:
			e.buildErrs["portico"] = err
			logf("portico will be skipped: %v", err)
		case !known:
			logf("this portico has no `server --engine` flag: portico-nethttp runs without it, the fast rows are skipped")
		}
	}
	if ps.Taskset != "" {
		// The runner shares the load CPU, away from the proxy under test.
		_ = exec.Command(ps.Taskset, "-a", "-p", "-c", strconv.Itoa(cfg.loadCPU), strconv.Itoa(os.Getpid())).Run()
	}
	if err := startOrigin(ctx, e, cfg.loadCPU, cfg.originMode); err != nil {
		return err
	}
	if len(cfg.idleConns) > 0 {
		return idleConnsBench(ctx, e, cfg)
	}
	ld, err := chooseLoader(cfg, ps.Taskset)
	if err != nil {
		return err
	}
	loaders, noLoader := kindLoaders(cfg, ld, ps.Taskset)
	printFacts(cfg, e, loaders, nproc)

	runs := len(cfg.targets) * len(cfg.connections) * cfg.rounds
	logf("%d runs of %v (+%v warm-up) each", runs, cfg.duration, cfg.warmup)
	var samples []sample
	failures := map[string]error{}
	for r := range cfg.rounds {
		order := rotate(cfg.targets, r)
		for _, c := range cfg.connections {
			for _, t := range order {
				if ctx.Err() != nil {
					return fmt.Errorf("stopped: %w", context.Cause(ctx))
				}
				key := fmt.Sprintf("%s c=%d", t.name, c)
				if _, failed := failures[key]; failed {
					continue // a target that failed once is not retried
				}
				s, err := sample{}, noLoader[t.load]
				if l, ok := loaders[t.load]; ok {
					s, err = measure(ctx, e, l, t, c, cfg)
				}
				if err != nil && ctx.Err() != nil {
					return fmt.Errorf("stopped during %s: %w", key, context.Cause(ctx))
				}
				if err != nil {
					var skip skipError
					if errors.As(err, &skip) {
						logf("round %d %s: skipped: %v", r+1, key, err)
					} else {
						logf("round %d %s: FAILED: %v", r+1, key, err)
					}
					failures[key] = err
					continue
				}
				s.round = r
				samples = append(samples, s)
				logf("round %d %-16s %9.0f rps  p50 %-8s p99 %-8s cpu %6s µs/req (%.2f cores)  origin %5.1f µs/req  others %.2f cores%s%s",
					r+1, key, s.rps, fmtDur(s.p50), fmtDur(s.p99), fmtFloat(s.cpuPerReq, 1), s.proxyCores, s.originPerReq, s.others, errNote(s.errors), noteSuffix(s.note))
			}
		}
	}
	printTable(os.Stdout, cfg, samples, failures)
	printFooter(os.Stdout, footerFacts(cfg, e, loaders))
	hard := 0
	for _, key := range slices.Sorted(maps.Keys(failures)) {
		err := failures[key]
		var skip skipError
		if errors.As(err, &skip) {
			fmt.Printf("\n%s: skipped: %v\n", key, err)
			continue
		}
		hard++
		fmt.Printf("\n%s FAILED: %s\n", key, firstLines(err.Error(), 30))
	}
	if hard > 0 {
		return fmt.Errorf("%d target(s) failed", hard)
	}
	return nil
}

func rotate(ts []target, by int) []target {
	n := len(ts)
	out := make([]target, 0, n)
	for i := range n {
		out = append(out, ts[(i+by)%n])
	}
	return out
}

func chooseLoader(cfg config, taskset string) (loader, error) {
	wrk, werr := exec.LookPath("wrk")
	switch {
	case cfg.loader == "wrk" && werr != nil:
		return nil, fmt.Errorf("-loader wrk: %w", werr)
	case cfg.loader != "go" && werr == nil:
		return wrkLoader{path: wrk, taskset: taskset, cpu: cfg.loadCPU}, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return goLoader{self: self, taskset: taskset, cpu: cfg.loadCPU, mode: "keepalive"}, nil
}

// kindLoaders is the loader of each kind of row, or why rows of a kind are
// skipped. The HTTPS rows take wrk whatever -loader says (the built-in
// generator speaks no TLS).
func kindLoaders(cfg config, plain loader, taskset string) (map[loadKind]loader, map[loadKind]error) {
	lds := map[loadKind]loader{loadPlain: plain}
	skip := map[loadKind]error{}
	if p, err := exec.LookPath("wrk"); err == nil {
		lds[loadHTTPS] = wrkLoader{path: p, taskset: taskset, cpu: cfg.loadCPU}
		lds[loadTwoCores] = wrkLoader{path: p, cpu: -1, threads: 2}
	} else {
		skip[loadHTTPS] = errSkip("wrk is not installed (apt-get install wrk): the HTTPS keep-alive rows need it")
		skip[loadTwoCores] = errSkip("wrk is not installed (apt-get install wrk): the two-core rows need it")
	}
	if self, err := os.Executable(); err == nil {
		lds[loadHandshake] = goLoader{self: self, taskset: taskset, cpu: cfg.loadCPU, mode: "handshake"}
	} else {
		skip[loadHandshake] = fmt.Errorf("the handshake driver: %w", err)
	}
	if p, err := exec.LookPath("h2load"); err == nil {
		lds[loadH2] = h2loadLoader{path: p, taskset: taskset, cpu: cfg.loadCPU, streams: cfg.h2Streams}
	} else {
		skip[loadH2] = errSkip("h2load is not installed (apt-get install nghttp2-client): the HTTP/2 rows need it")
	}
	return lds, skip
}

// sample is one measured run of one target.
type sample struct {
	target       string
	conns        int
	round        int
	requests     int64
	rps          float64
	p50, p99     time.Duration
	cpuPerReq    float64 // µs of the proxy's CPU per request; NaN for direct
	proxyCores   float64 // the proxy's CPU time / wall time: near 1, its core was the limit
	originPerReq float64 // µs of the origin's CPU per request
	allocsPerReq float64 // NaN when not known
	others       float64 // cores used by everything else on the machine during the run
	errors       int64
	note         string // what a TLS load negotiated
	upConnsMost  int    // connections open to the origin, the most sampled during the run
	upConnsAfter int    // … and right after it
	rss          int64  // the proxy's resident memory at the end of the run, bytes
}

// measure starts t fresh, warms it up, then drives it for cfg.duration
// while reading the CPU time of the proxy, the origin and the machine.
func measure(ctx context.Context, e *env, ld loader, t target, conns int, cfg config) (sample, error) {
	inst, err := t.start(ctx, e)
	if err != nil {
		return sample{}, err
	}
	defer inst.stop()
	if err := quickCheck(ctx, inst.url, inst.headers, t.load == loadH2); err != nil {
		return sample{}, err
	}
	if ld, err = withBody(ld, inst.body, e.tmp); err != nil {
		return sample{}, err
	}
	if cfg.warmup > 0 {
		if _, err := ld.run(ctx, inst.url, inst.headers, conns, cfg.warmup); err != nil {
			return sample{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	self, _ := benchproc.CPU(os.Getpid())
	proxy0, origin0, busy0 := benchproc.TreeCPU(inst.measured...), benchproc.TreeCPU(e.origin), benchproc.CPUBusy(-1)
	var allocs0 uint64
	haveAllocs := false
	if inst.allocs != nil {
		allocs0, haveAllocs = inst.allocs()
	}
	wall0 := time.Now()
	up := watchUpstream(e.originAddr)
	res, err := ld.run(ctx, inst.url, inst.headers, conns, cfg.duration)
	wall := time.Since(wall0)
	upMost := up.end()
	if err != nil {
		return sample{}, err
	}
	proxy1, origin1, busy1 := benchproc.TreeCPU(inst.measured...), benchproc.TreeCPU(e.origin), benchproc.CPUBusy(-1)
	self1, _ := benchproc.CPU(os.Getpid())
	for _, p := range inst.measured {
		if p.Exited() {
			return sample{}, fmt.Errorf("%s exited during the run (%v):\n%s", p.Name, p.Err(), p.Tail())
		}
	}
	if res.Requests <= 0 {
		return sample{}, fmt.Errorf("no request completed")
	}
	n := float64(res.Requests)
	s := sample{
		target: t.name, conns: conns, requests: res.Requests, rps: res.RPS, p50: res.P50, p99: res.P99, errors: res.Errors, note: res.Note,
		cpuPerReq:    math.NaN(),
		allocsPerReq: math.NaN(),
		originPerReq: float64((origin1 - origin0).Microseconds()) / n,
		upConnsMost:  upMost,
		upConnsAfter: originConns(e.originAddr),
		rss:          benchproc.TreeRSS(inst.measured...),
	}
	if len(inst.measured) > 0 {
		s.cpuPerReq = float64((proxy1 - proxy0).Microseconds()) / n
		s.proxyCores = (proxy1 - proxy0).Seconds() / wall.Seconds()
	}
	if haveAllocs {
		if allocs1, ok := inst.allocs(); ok && allocs1 >= allocs0 {
			s.allocsPerReq = float64(allocs1-allocs0) / n
		}
	}
	ours := (proxy1 - proxy0) + (origin1 - origin0) + res.CPU + (self1 - self)
	s.others = max(0, (busy1-busy0-ours).Seconds()/wall.Seconds())
	return s, nil
}

func errNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors)", n)
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return "  [" + note + "]"
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
