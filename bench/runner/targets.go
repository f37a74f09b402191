package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// env is what starting a target needs.
type env struct {
	ps          *procs
	tmp         string
	root        string // module root
	bins        map[string]string
	buildErrs   map[string]error
	origin      *proc
	originAddr  string
	nginx       string // nginx path; empty: not installed
	proxyCPU    int    // -1: no pinning
	porticoArgs []string
	seq         int // numbers fresh data and config dirs
}

// instance is one started target, fresh for one measured run.
type instance struct {
	url      string
	measured []*proc               // processes whose CPU (with children) is the target's cost
	allocs   func() (uint64, bool) // heap objects allocated so far, when the target is ours
	stop     func()
}

// target is one row of the table.
type target struct {
	name  string
	start func(ctx context.Context, e *env) (*instance, error)
}

var allTargets = []target{
	{"direct", startDirect},
	{"nginx", startNginx},
	{"refproxy", startRefproxy},
	{"portico", startPortico},
}

func targetByName(name string) (target, bool) {
	for _, t := range allTargets {
		if t.name == name {
			return t, true
		}
	}
	return target{}, false
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module; run from the repository root")
	}
	return filepath.Dir(mod), nil
}

// buildAll builds the binaries the targets need into e.tmp/bin. The origin
// and the reference are required; a Portico that does not build is
// reported and its target skipped.
func buildAll(ctx context.Context, e *env, needPortico bool) error {
	pkgs := map[string]string{"origin": "./bench/origin", "refproxy": "./bench/refproxy"}
	if needPortico {
		pkgs["portico"] = "./cmd/portico"
	}
	e.bins, e.buildErrs = map[string]string{}, map[string]error{}
	binDir := filepath.Join(e.tmp, "bin")
	for _, name := range []string{"origin", "refproxy", "portico"} {
		pkg, ok := pkgs[name]
		if !ok {
			continue
		}
		out := filepath.Join(binDir, name)
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(bctx, "go", "build", "-o", out, pkg)
		cmd.Dir = e.root
		msg, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			err = fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(msg)))
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
// generator's CPU (BENCHMARKING.md: origin and load share core 0).
func startOrigin(ctx context.Context, e *env, cpu int, mode string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := e.ps.start("origin", cpu, nil, e.bins["origin"], "-addr", addr, "-mode", mode)
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

func startNginx(ctx context.Context, e *env) (*instance, error) {
	if e.nginx == "" {
		return nil, errSkip("nginx is not installed")
	}
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("nginx-%d", e.seq))
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	conf, err := writeNginxConf(dir, listen, e.originAddr)
	if err != nil {
		return nil, err
	}
	if err := checkNginxConf(e.nginx, dir, conf); err != nil {
		return nil, err
	}
	p, err := e.ps.start("nginx", e.proxyCPU, nil, nginxArgv(e.nginx, dir, conf)...)
	if err != nil {
		return nil, err
	}
	inst := &instance{url: "http://" + listen + benchPath, measured: []*proc{p}, stop: func() { e.ps.stop(p, 3*time.Second) }}
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		inst.stop()
		return nil, fmt.Errorf("nginx: %w\n%s", err, readFileTail(filepath.Join(dir, "error.log")))
	}
	return inst, nil
}

func startRefproxy(ctx context.Context, e *env) (*instance, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	stats, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := e.ps.start("refproxy", e.proxyCPU, nil, e.bins["refproxy"],
		"-addr", listen, "-upstream", "http://"+e.originAddr, "-stats-addr", stats)
	if err != nil {
		return nil, err
	}
	inst := &instance{
		url:      "http://" + listen + benchPath,
		measured: []*proc{p},
		allocs:   func() (uint64, bool) { return refproxyAllocs(stats) },
		stop:     func() { e.ps.stop(p, 3*time.Second) },
	}
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		inst.stop()
		return nil, fmt.Errorf("refproxy: %w", err)
	}
	return inst, nil
}

// startPortico runs a fresh `portico server` on a new data dir, publishes
// the bench route through the admin API and waits until the gateway
// serves it.
func startPortico(ctx context.Context, e *env) (*instance, error) {
	if err := e.buildErrs["portico"]; err != nil {
		return nil, errSkip("portico did not build")
	}
	if e.bins["portico"] == "" {
		return nil, errSkip("portico was not built")
	}
	e.seq++
	dataDir := filepath.Join(e.tmp, fmt.Sprintf("portico-%d", e.seq))
	var a porticoAddrs
	for _, p := range []*string{&a.admin, &a.gateway, &a.status} {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		*p = addr
	}
	started := time.Now()
	p, err := e.ps.start("portico", e.proxyCPU, []string{"PORTICO_ADMIN_PASSWORD=" + porticoPassword},
		porticoArgv(e.bins["portico"], dataDir, a, e.porticoArgs)...)
	if err != nil {
		return nil, err
	}
	inst := &instance{
		url:      "http://" + a.gateway + benchPath,
		measured: []*proc{p},
		allocs:   func() (uint64, bool) { return porticoAllocs(a.status) },
		stop:     func() { e.ps.stop(p, 5*time.Second) },
	}
	fail := func(err error) (*instance, error) {
		inst.stop()
		return nil, fmt.Errorf("portico: %w\n--- portico output (end) ---\n%s", err, p.tail())
	}
	if err := waitHTTP(ctx, p, "http://"+a.status+"/readyz", 200, 15*time.Second); err != nil {
		return fail(err)
	}
	readyIn := time.Since(started)
	if err := publishBench(ctx, a.admin, e.originAddr); err != nil {
		return fail(err)
	}
	published := time.Now()
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		return fail(fmt.Errorf("published route: %w", err))
	}
	procsNote := ""
	if n, ok := scrapeMetric(a.status, "go_sched_gomaxprocs_threads"); ok {
		procsNote = fmt.Sprintf(", GOMAXPROCS %.0f", n)
	}
	logf("portico ready in %v, route live %v after publish%s", readyIn.Round(time.Millisecond), time.Since(published).Round(time.Millisecond), procsNote)
	return inst, nil
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
