package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// haproxyConf is the reference HAProxy of docs/benchmark.md: one thread,
// keep-alive on both sides with server connections reused by every client
// (http-reuse always), X-Forwarded-For added, no logging, every timeout
// set. X-Forwarded-Proto and -Host are set like the nginx reference does.
var haproxyConf = template.Must(template.New("haproxy").Parse(`# written by bench/runner
global
    nbthread 1
    maxconn 4096
    # no log line: nothing is logged

defaults
    mode http
    no log
    maxconn 4096
    option http-keep-alive
    option forwardfor
    http-reuse always
    timeout connect 5s
    timeout client 75s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 75s
    timeout queue 5s

frontend bench
    bind {{.Listen}}
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    default_backend origin

backend origin
    server origin {{.Origin}} maxconn 1024
`))

// writeHaproxyConf writes dir/haproxy.cfg proxying listen to origin and
// returns its path.
func writeHaproxyConf(dir, listen, origin string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var b strings.Builder
	if err := haproxyConf.Execute(&b, map[string]any{"Listen": listen, "Origin": origin}); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// haproxyVersion is the version `haproxy -v` prints, for the facts header.
func haproxyVersion(path string) string {
	out, err := exec.Command(path, "-v").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if _, v, ok := strings.Cut(line, "version "); ok {
		v, _, _ = strings.Cut(v, " ")
		return v
	}
	return line
}

// checkHaproxyConf runs haproxy -c on conf, so a bad config is reported
// with HAProxy's own words.
func checkHaproxyConf(path, conf string) error {
	out, err := exec.Command(path, "-c", "-q", "-f", conf).CombinedOutput()
	if err != nil {
		return fmt.Errorf("haproxy -c: %v\n%s", err, out)
	}
	return nil
}

func startHaproxy(ctx context.Context, e *env) (*instance, error) {
	if e.haproxy == "" {
		return nil, errSkip("haproxy is not installed")
	}
	e.seq++
	dir := filepath.Join(e.tmp, fmt.Sprintf("haproxy-%d", e.seq))
	listen, _, err := benchproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	conf, err := writeHaproxyConf(dir, listen, e.originAddr)
	if err != nil {
		return nil, err
	}
	if err := checkHaproxyConf(e.haproxy, conf); err != nil {
		return nil, err
	}
	// -db: foreground, one process, no daemon.
	p, err := e.ps.Start("haproxy", e.proxyCPU, nil, e.haproxy, "-db", "-f", conf)
	if err != nil {
		return nil, err
	}
	inst := &instance{url: "http://" + listen + benchPath, measured: []*benchproc.Proc{p}, stop: func() { e.ps.Stop(p, 3*time.Second) }}
	if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
		inst.stop()
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	return inst, nil
}
