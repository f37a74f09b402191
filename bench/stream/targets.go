package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// env is what starting a target needs.
type env struct {
	ps          *benchproc.Procs
	tmp         string
	porticoBin  string // built from the repository; empty: not built
	porticoErr  error  // why not
	nginx       string // nginx's path; empty: not installed
	nginxModule string // ngx_stream_module.so
	backendPort int    // the private redis-server
	proxyCPU    int
	profiling   bool // portico serves /debug/pprof/ (the -cpuprofile run only)
	seq         int  // numbers fresh data and config dirs
}

// pinnedProxyCPU is the proxy's CPU when it is pinned, else -1.
func (e *env) pinnedProxyCPU() int {
	if e.ps.Taskset == "" {
		return -1
	}
	return e.proxyCPU
}

// instance is one started target, fresh for one run.
type instance struct {
	port     int               // where redis-benchmark connects
	measured []*benchproc.Proc // the proxy: its CPU (with children) is the row's cost
	status   string            // portico's status address (profiling)
	stop     func()
}

// errSkip marks a target that cannot run here (a tool not installed); the
// row is left out with the reason in the report's notes.
type errSkip string

func (e errSkip) Error() string { return string(e) }

// target is one row group of the report.
type target struct {
	name  string
	start func(ctx context.Context, e *env) (*instance, error)
}

var allTargets = []target{
	{"direct", startDirect},
	{"nginx-stream", startNginxStream},
	{"portico-stream", startPorticoStream},
}

func targetByName(name string) (target, bool) {
	for _, t := range allTargets {
		if t.name == name {
			return t, true
		}
	}
	return target{}, false
}

// startBackend runs the private redis-server for the whole benchmark on
// the load CPU: persistence off (a SET load must not fork for RDB saves or
// write an AOF on this shared disk), loopback only, its own port, never
// the machine's shared Redis on 6379.
func startBackend(ctx context.Context, e *env, path string, cpu int) (*benchproc.Proc, error) {
	addr, port, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.tmp, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p, err := e.ps.Start("redis-server", cpu, nil, path,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "yes")
	if err != nil {
		return nil, err
	}
	if err := waitPing(ctx, p, addr, 10*time.Second); err != nil {
		e.ps.Stop(p, time.Second)
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	e.backendPort = port
	return p, nil
}

func startDirect(_ context.Context, e *env) (*instance, error) {
	return &instance{port: e.backendPort, stop: func() {}}, nil
}

// nginxStreamConf is nginx's layer-4 proxy at its simplest: one worker (the
// Go runtime gets one CPU too), the stream module loaded by path (Debian
// builds it as a dynamic module, libnginx-mod-stream), one upstream, no
// access log (stream logs nothing unless asked). Everything lives in the
// run's own directory, so the machine's nginx is not touched.
var nginxStreamConf = template.Must(template.New("nginx").Parse(`# written by bench/stream
load_module {{.Module}};
worker_processes 1;
daemon off;
master_process on;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
    worker_connections 4096;
}

stream {
    upstream redis {
        server 127.0.0.1:{{.Backend}};
    }
    server {
        listen {{.Listen}};
        proxy_pass redis;
    }
}
`))

func startNginxStream(ctx context.Context, e *env) (*instance, error) {
	if e.nginx == "" {
		return nil, errSkip("nginx is not installed (apt-get install nginx-light)")
	}
	if _, err := os.Stat(e.nginxModule); err != nil {
		return nil, errSkip(fmt.Sprintf("nginx's stream module %s is missing (apt-get install libnginx-mod-stream)", e.nginxModule))
	}
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("nginx-%03d", e.seq))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	listen, port, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := nginxStreamConf.Execute(&b, map[string]any{
		"Module": e.nginxModule, "Dir": dir, "Backend": e.backendPort, "Listen": listen,
	}); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	// -e keeps nginx's start-up error log out of /var/log.
	argv := []string{e.nginx, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
	// nginx -t first, so a bad config is reported in nginx's own words
	// rather than as a listener that never answers.
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	out, err := exec.CommandContext(tctx, argv[0], append(argv[1:], "-t", "-q")...).CombinedOutput()
	cancel()
	if err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	p, err := e.ps.Start("nginx-stream", e.proxyCPU, nil, argv...)
	if err != nil {
		return nil, err
	}
	if err := waitPing(ctx, p, listen, 10*time.Second); err != nil {
		e.ps.Stop(p, time.Second)
		return nil, fmt.Errorf("nginx-stream: %w", err)
	}
	return &instance{port: port, measured: []*benchproc.Proc{p}, stop: func() { e.ps.Stop(p, 5*time.Second) }}, nil
}

// startPorticoStream runs a fresh `portico server` on a new data dir with
// one stream listener ("redis") on a port it picks, publishes a stream
// service relaying it to the backend, and waits until a PING goes through.
func startPorticoStream(ctx context.Context, e *env) (*instance, error) {
	if e.porticoBin == "" {
		return nil, errSkip(fmt.Sprintf("portico did not build: %v", e.porticoErr))
	}
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("portico-%03d", e.seq))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	extra := []string{"--gateway-stream-addr", "redis=127.0.0.1:0"}
	if e.profiling {
		extra = append(extra, "--profiling")
	}
	p, rf, err := e.ps.StartReady(ctx, "portico-stream", e.proxyCPU, []string{benchproc.AdminEnv},
		filepath.Join(dir, "ready.json"), time.Minute,
		benchproc.ServerArgv(e.porticoBin, filepath.Join(dir, "data"), benchproc.AnyPorts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("portico-stream: %w", err)
	}
	inst, err := setUpPortico(ctx, e, p, rf)
	if err != nil {
		e.ps.Stop(p, 5*time.Second)
		return nil, fmt.Errorf("portico-stream: %w", err)
	}
	return inst, nil
}

func setUpPortico(ctx context.Context, e *env, p *benchproc.Proc, rf benchproc.ReadyFile) (*instance, error) {
	listen := rf.GatewayStreams["redis"]
	if listen == "" {
		return nil, fmt.Errorf("the ready file names no stream listener \"redis\": %+v", rf)
	}
	_, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("stream listener address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("stream listener address %q: %w", listen, err)
	}
	a, err := benchproc.Login(ctx, rf.Admin, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var svc struct{ ID string }
	if err := a.Post(ctx, "/projects/default/services", map[string]any{
		"name": "cache", "type": "stream",
		"stream_routes": []map[string]any{{"name": "redis", "listener": "redis"}},
	}, &svc); err != nil {
		return nil, err
	}
	upstream := map[string]any{"scheme": "tcp",
		"nodes": []map[string]any{{"host": "127.0.0.1", "port": e.backendPort, "weight": 100}}}
	if err := a.Post(ctx, "/projects/default/services/"+svc.ID+"/publish",
		map[string]any{"group": "default", "version": "1.0.0", "upstream": upstream}, nil); err != nil {
		return nil, err
	}
	// The embedded gateway applies the publish within a moment; until then
	// the listener has no route and closes the connection.
	if err := waitPing(ctx, p, listen, 15*time.Second); err != nil {
		return nil, err
	}
	return &instance{port: port, measured: []*benchproc.Proc{p}, status: rf.Status,
		stop: func() { e.ps.Stop(p, 10*time.Second) }}, nil
}
