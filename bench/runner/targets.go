package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// env is what starting a target needs.
type env struct {
	ps          *benchproc.Procs
	tmp         string
	root        string // module root
	bins        map[string]string
	buildErrs   map[string]error
	origin      *benchproc.Proc
	originAddr  string
	nginx       string // nginx path; empty: not installed
	haproxy     string // haproxy path; empty: not installed
	proxyCPU    int    // -1: no pinning
	porticoArgs []string
	// engineFlag: the built portico knows `server --engine`; without it
	// the binary has one engine, net/http, and the fast rows are skipped.
	engineFlag bool
	seq        int // numbers fresh data and config dirs
	// cert is the TLS rows' certificate, made when one is selected.
	cert *benchCert
	// nginxVersion is what `nginx -v` says: the TLS rows' http2 syntax
	// depends on it.
	nginxVersion string
	// otlp is the tracing row's OTLP/HTTP receiver, once started.
	otlp string
	// nginxWorkerConns is the nginx rows' worker_connections when more
	// than the default 4096 are needed (many clients, the idle-connection
	// rows).
	nginxWorkerConns int
	// nginxWorkers is the nginx rows' worker processes (0: one).
	nginxWorkers int
}

// instance is one started target, fresh for one measured run.
type instance struct {
	url      string
	headers  []string              // "Name: value" lines every load request carries (key-auth's key)
	body     []byte                // JSON every load request posts; nil: the load GETs
	measured []*benchproc.Proc     // processes whose CPU (with children) is the target's cost
	allocs   func() (uint64, bool) // heap objects allocated so far, when the target is ours
	stop     func()
}

// target is one row of the table.
type target struct {
	name    string
	portico bool // a `portico server` (needs the binary; reports allocations)
	start   func(ctx context.Context, e *env) (*instance, error)
	load    loadKind // how the row is driven
	// ref is the nginx row the row's nginx ratios are taken against: a
	// TLS row is compared with nginx doing the same TLS work.
	ref string
}

// loadKind is how a row is driven, and what one unit of its rate is.
type loadKind int

const (
	loadPlain     loadKind = iota // -loader (wrk or the built-in generator): keep-alive HTTP/1.1 requests
	loadHTTPS                     // wrk over TLS: keep-alive HTTP/1.1 requests
	loadHandshake                 // the built-in handshake driver: connections, each a full TLS handshake and one request
	loadH2                        // h2load over TLS: HTTP/2 requests
	loadTwoCores                  // wrk -t2, unpinned: keep-alive HTTP/1.1 requests to a proxy on both cores
)

// allTargets are the rows the runner knows, in the default order.
var allTargets = []target{
	{"direct", false, startDirect, loadPlain, "nginx"},
	{"nginx", false, nginxTarget(nginxPlain), loadPlain, "nginx"},
	{"nginx-accesslog", false, nginxTarget(nginxAccessLog), loadPlain, "nginx"},
	{"haproxy", false, startHaproxy, loadPlain, "nginx"},
	{"refproxy", false, startRefproxy, loadPlain, "nginx"},
	// What Go itself costs a proxy (relayfloor.go): relays with no HTTP
	// work, one per way of driving the sockets.
	{"relay-goroutines", false, relayFloor("goroutines"), loadPlain, "nginx"},
	{"relay-lockstep", false, relayFloor("lockstep"), loadPlain, "nginx"},
	{"relay-eventloop", false, relayFloor("eventloop"), loadPlain, "nginx"},
	{"relay-eventloop-http", false, relayFloor("eventloop-http"), loadPlain, "nginx"},
	{"portico-nethttp", true, porticoTarget("nethttp", nil), loadPlain, "nginx"},
	{"portico-fast", true, porticoTarget("fast", nil), loadPlain, "nginx"},
	{"portico-fast-plugins", true, porticoTarget("fast", benchPlugins), loadPlain, "nginx"},
	{"portico-fast-canary", true, porticoTarget("fast", canaryBench), loadPlain, "nginx"},
	{"portico-fast-policies", true, porticoTarget("fast", policiesBench), loadPlain, "nginx"},
	{"portico-nethttp-plugins", true, porticoTarget("nethttp", benchPlugins), loadPlain, "nginx"},
	{"portico-fast-sql", true, porticoTarget("fast", sqlBench), loadPlain, "nginx"},
	{"portico-fast-leastconn", true, porticoTarget("fast", leastConnBench), loadPlain, "nginx"},
	{"portico-fast-chash", true, porticoTarget("fast", chashBench), loadPlain, "nginx"},
	{"portico-fast-ewma", true, porticoTarget("fast", ewmaBench), loadPlain, "nginx"},
	{"portico-fast-checked", true, porticoTarget("fast", checkedBench), loadPlain, "nginx"},
	{"portico-fast-accesslog", true, porticoWithArgs(accessLogArgs), loadPlain, "nginx"},
	{"portico-fast-tracing", true, porticoWithArgs(tracingArgs), loadPlain, "nginx"},
	{"portico-fast-traceids", true, porticoWithArgs(traceIDArgs), loadPlain, "nginx"},
	// A 1 KiB JSON body posted (validation.go): proxied, and validated.
	{"portico-fast-post", true, porticoTarget("fast", postBench), loadPlain, "nginx"},
	{"portico-fast-validation", true, porticoTarget("fast", validationBench), loadPlain, "nginx"},
	// Answered from proxy-cache's memory (cache.go), beside portico-fast.
	{"portico-fast-cache", true, porticoTarget("fast", cacheBench), loadPlain, "nginx"},
	// A composite API of two parallel in-process calls (composite.go),
	// beside twice portico-fast.
	{"portico-fast-composite", true, porticoTarget("fast", compositeBench), loadPlain, "nginx"},
	// Both cores (twocores.go): nginx with two workers, Portico with
	// GOMAXPROCS 2, the load generator and the origin on the same cores.
	{"nginx-2cores", false, twoCores(nginxTarget(nginxPlain)), loadTwoCores, "nginx-2cores"},
	{"portico-fast-2cores", true, twoCores(porticoTarget("fast", nil)), loadTwoCores, "nginx-2cores"},
	// TLS rows (tls.go): the same ECDSA P-256 certificate on both sides.
	{"nginx-https", false, nginxTarget(nginxHTTPS), loadHTTPS, "nginx-https"},
	{"portico-fast-https", true, porticoTLSTarget("fast", false), loadHTTPS, "nginx-https"},
	{"nginx-handshake", false, nginxTarget(nginxHTTPS), loadHandshake, "nginx-handshake"},
	{"portico-fast-handshake", true, porticoTLSTarget("fast", false), loadHandshake, "nginx-handshake"},
	{"nginx-h2", false, nginxTarget(nginxH2), loadH2, "nginx-h2"},
	{"portico-h2", true, porticoTLSTarget("fast", true), loadH2, "nginx-h2"},
}

// defaultTargets is -targets' default: every row the goals ask for
// (portico-nethttp-plugins is there on request).
const defaultTargets = "direct,nginx,nginx-accesslog,haproxy,refproxy,portico-nethttp,portico-fast,portico-fast-plugins,portico-fast-canary,portico-fast-policies,portico-fast-sql," +
	"portico-fast-leastconn,portico-fast-chash,portico-fast-ewma,portico-fast-checked,portico-fast-accesslog,portico-fast-tracing," +
	"portico-fast-post,portico-fast-validation," +
	"nginx-https,portico-fast-https,nginx-handshake,portico-fast-handshake,nginx-h2,portico-h2"

// targetAliases are other names -targets accepts.
var targetAliases = map[string]string{"portico": "portico-fast"}

func targetByName(name string) (target, bool) {
	if to, ok := targetAliases[name]; ok {
		name = to
	}
	for _, t := range allTargets {
		if t.name == name {
			return t, true
		}
	}
	return target{}, false
}

func targetNames() string {
	names := make([]string, 0, len(allTargets)+len(targetAliases))
	for _, t := range allTargets {
		names = append(names, t.name)
	}
	for _, a := range slices.Sorted(maps.Keys(targetAliases)) {
		names = append(names, a+" (= "+targetAliases[a]+")")
	}
	return strings.Join(names, ", ")
}

// buildAll builds the binaries the targets need into e.tmp/bin. The origin
// and the reference are required; a Portico that does not build is
// reported and its target skipped.
func buildAll(ctx context.Context, e *env, needPortico bool) error {
	pkgs := map[string]string{"origin": "./bench/origin", "refproxy": "./bench/refproxy", "relayfloor": "./bench/relayfloor"}
	if needPortico {
		pkgs["portico"] = "./cmd/portico"
	}
	e.bins, e.buildErrs = map[string]string{}, map[string]error{}
	binDir := filepath.Join(e.tmp, "bin")
	for _, name := range []string{"origin", "refproxy", "relayfloor", "portico"} {
		pkg, ok := pkgs[name]
		if !ok {
			continue
		}
		out := filepath.Join(binDir, name)
		if err := benchproc.Build(ctx, e.root, out, pkg); err != nil {
			if name != "portico" {
				return err
			}
			e.buildErrs[name] = err
			continue
		}
		e.bins[name] = out
	}
	return nil
}

// startOrigin runs the origin once for the whole benchmark, on the load
// generator's CPU (origin and load share core 0; the proxy has core 1).
func startOrigin(ctx context.Context, e *env, cpu int, mode string) error {
	addr, _, err := benchproc.FreeAddr()
	if err != nil {
		return err
	}
	p, err := e.ps.Start("origin", cpu, nil, e.bins["origin"], "-addr", addr, "-mode", mode)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, "http://"+addr+benchPath, 200, 10*time.Second); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	e.origin, e.originAddr = p, addr
	return nil
}

func startDirect(_ context.Context, e *env) (*instance, error) {
	return &instance{url: "http://" + e.originAddr + benchPath, stop: func() {}}, nil
}

// startNginxMode runs a fresh nginx (one worker, keep-alive to the
// origin) listening in mode; the TLS modes present the bench certificate.
func startNginxMode(ctx context.Context, e *env, mode nginxMode) (*instance, error) {
	if e.nginx == "" {
		return nil, errSkip("nginx is not installed")
	}
	var tls *nginxTLS
	scheme := "http"
	if mode != nginxPlain && mode != nginxAccessLog {
		if e.cert == nil {
			return nil, fmt.Errorf("no bench certificate")
		}
		tls = &nginxTLS{Cert: e.cert.certFile, Key: e.cert.keyFile, H2: mode == nginxH2, H2Directive: nginxHasHTTP2Directive(e.nginxVersion)}
		scheme = "https"
	}
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("nginx-%d", e.seq))
	listen, _, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	accessLog := ""
	if mode == nginxAccessLog {
		accessLog = filepath.Join(dir, "access.log")
	}
	conf, err := writeNginxConf(dir, listen, e.originAddr, tls, accessLog, e.nginxWorkerConns, e.nginxWorkers)
	if err != nil {
		return nil, err
	}
	if err := checkNginxConf(e.nginx, dir, conf); err != nil {
		return nil, err
	}
	p, err := e.ps.Start("nginx", e.proxyCPU, nil, nginxArgv(e.nginx, dir, conf)...)
	if err != nil {
		return nil, err
	}
	inst := &instance{url: scheme + "://" + listen + benchPath, measured: []*benchproc.Proc{p}, stop: func() { e.ps.Stop(p, 3*time.Second) }}
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		inst.stop()
		return nil, fmt.Errorf("nginx: %w\n%s", err, readFileTail(filepath.Join(dir, "error.log")))
	}
	return inst, nil
}

func startRefproxy(ctx context.Context, e *env) (*instance, error) {
	listen, _, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	stats, _, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	p, err := e.ps.Start("refproxy", e.proxyCPU, nil, e.bins["refproxy"],
		"-addr", listen, "-upstream", "http://"+e.originAddr, "-stats-addr", stats)
	if err != nil {
		return nil, err
	}
	inst := &instance{
		url:      "http://" + listen + benchPath,
		measured: []*benchproc.Proc{p},
		allocs:   func() (uint64, bool) { return refproxyAllocs(stats) },
		stop:     func() { e.ps.Stop(p, 3*time.Second) },
	}
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		inst.stop()
		return nil, fmt.Errorf("refproxy: %w", err)
	}
	return inst, nil
}

// porticoTarget is the start function of a Portico row: a fresh `portico
// server` with the given engine, its bench route carrying plugins.
func porticoTarget(engine string, plugins []routePlugin) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		return startPortico(ctx, e, engine, plugins, "http")
	}
}

// porticoEngineArgs is what selects engine on the command line, or why it
// cannot be selected: a portico without --engine has one engine, net/http,
// which runs without the flag.
func porticoEngineArgs(engineFlag bool, engine string) ([]string, error) {
	switch {
	case engineFlag:
		return []string{"--engine", engine}, nil
	case engine == "nethttp":
		return nil, nil
	default:
		return nil, errSkip(fmt.Sprintf("no --engine flag in this portico: the %s engine cannot be selected", engine))
	}
}

// startPortico runs a fresh `portico server` on a new data dir, publishes
// the bench route (with plugins, when given) through the admin API and
// waits until the gateway serves it. listen is where the load goes: "http"
// (the plain gateway address), "https" or "h2" (the --gateway-tls-addr
// listener with the bench certificate, over HTTP/1.1 or HTTP/2).
func startPortico(ctx context.Context, e *env, engine string, plugins []routePlugin, listen string) (*instance, error) {
	if err := e.buildErrs["portico"]; err != nil {
		return nil, errSkip("portico is unusable: " + firstLines(err.Error(), 1))
	}
	if e.bins["portico"] == "" {
		return nil, errSkip("portico was not built")
	}
	engineArgs, err := porticoEngineArgs(e.engineFlag, engine)
	if err != nil {
		return nil, err
	}
	e.seq++
	dataDir := filepath.Join(e.tmp, fmt.Sprintf("portico-%d", e.seq))
	var a benchproc.Listeners
	for _, p := range []*string{&a.Admin, &a.Gateway, &a.Status} {
		addr, _, err := benchproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		*p = addr
	}
	extra := append([]string(nil), engineArgs...)
	var cert *benchCert
	url := "http://" + a.Gateway + benchPath
	if listen != "http" {
		if cert = e.cert; cert == nil {
			return nil, fmt.Errorf("no bench certificate")
		}
		tlsAddr, _, err := benchproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		extra = append(extra, "--gateway-tls-addr", tlsAddr)
		url = "https://" + tlsAddr + benchPath
	}
	started := time.Now()
	// PORTICO_ENGINE is set too, so an engine inherited from the caller's
	// environment never decides the row.
	p, err := e.ps.Start("portico-"+engine, e.proxyCPU,
		[]string{benchproc.AdminEnv, "PORTICO_ENGINE=" + engine},
		benchproc.ServerArgv(e.bins["portico"], dataDir, a, append(extra, e.porticoArgs...)...)...)
	if err != nil {
		return nil, err
	}
	inst := &instance{
		url:      url,
		headers:  pluginHeaders(plugins),
		body:     pluginBody(plugins),
		measured: []*benchproc.Proc{p},
		allocs:   func() (uint64, bool) { return porticoAllocs(a.Status) },
		stop:     func() { e.ps.Stop(p, 5*time.Second) },
	}
	fail := func(err error) (*instance, error) {
		inst.stop()
		return nil, fmt.Errorf("portico: %w\n--- portico output (end) ---\n%s", err, p.Tail())
	}
	if err := waitHTTP(ctx, p, "http://"+a.Status+"/readyz", 200, 15*time.Second); err != nil {
		return fail(err)
	}
	readyIn := time.Since(started)
	if err := publishBench(ctx, a.Admin, e.originAddr, plugins, cert); err != nil {
		return fail(err)
	}
	published := time.Now()
	if err := waitHTTPWith(ctx, p, inst.url, inst.headers, listen == "h2", 200, 10*time.Second); err != nil {
		return fail(fmt.Errorf("published route: %w", err))
	}
	for _, pl := range plugins {
		if pl.probe == nil {
			continue
		}
		if err := pl.probe(ctx, a.Gateway); err != nil {
			return fail(fmt.Errorf("plugin %s is not live on the route: %w", pl.name, err))
		}
	}
	note := ""
	if n, ok := scrapeMetric(a.Status, "go_sched_gomaxprocs_threads"); ok {
		note += fmt.Sprintf(", GOMAXPROCS %.0f", n)
	}
	if _, ok := inst.allocs(); !ok {
		note += ", NO allocation counter (go_memstats_mallocs_total missing from the status /metrics)"
	}
	if len(engineArgs) == 0 {
		note += ", no --engine flag: the binary's net/http engine"
	}
	if line := firstLogLine(p.LogPath, "engine"); line != "" {
		note += "; log: " + line
	}
	if listen != "http" {
		note += ", over TLS (" + listen + ")"
	}
	logf("portico %s ready in %v, route live %v after publish%s", strings.Join(append([]string{engine}, pluginNames(plugins)...), "+"),
		readyIn.Round(time.Millisecond), time.Since(published).Round(time.Millisecond), note)
	return inst, nil
}

// firstLogLine is the first line of the log at path that mentions word
// (case-insensitive), shortened; empty when none does.
func firstLogLine(path, word string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(strings.ToLower(line), word) {
			line = strings.TrimSpace(line)
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			return line
		}
	}
	return ""
}

// skipError marks a target that cannot run here (not a failure of it).
type skipError string

func (s skipError) Error() string { return string(s) }

func errSkip(why string) error { return skipError(why) }

func readFileTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}
