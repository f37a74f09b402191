package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// benchPath is the path every target is driven on; Portico publishes it as
// an exact route.
const benchPath = "/bench"

// porticoKnowsEngine reports whether `portico server --help` lists the
// --engine flag.
func porticoKnowsEngine(ctx context.Context, bin string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "server", "--help").CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("portico server --help: %v\n%s", err, out)
	}
	return helpHasFlag(string(out), "engine"), nil
}

// helpHasFlag reports whether a cobra/pflag help text lists --name.
func helpHasFlag(help, name string) bool {
	for line := range strings.SplitSeq(help, "\n") {
		// A flag line starts with its names: "-e, --engine string  …" or
		// "--engine string  …"; a mention in another flag's text is not one.
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "-") {
			continue
		}
		for _, w := range f[:min(2, len(f))] {
			w = strings.TrimRight(w, ",")
			if w == "--"+name || strings.HasPrefix(w, "--"+name+"=") {
				return true
			}
		}
	}
	return false
}

// publishBench runs the publish flow: log in as admin, create a service
// with one GET route on benchPath and publish it to the default group with
// the origin as its upstream. With plugins the route carries them (and
// takes POST too, for the probes' requests with a body), and their setup
// runs first. With cert the group gets it as its default certificate and
// the service answers over HTTPS too (an ["http"] service is not found
// on the TLS listener).
func publishBench(ctx context.Context, adminAddr, originAddr string, plugins []routePlugin, cert *benchCert) error {
	routePl, err := routePlugins(plugins)
	if err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(originAddr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	c, err := benchproc.Login(ctx, adminAddr, 10*time.Second)
	if err != nil {
		return err
	}
	for _, p := range plugins {
		if p.setup == nil {
			continue
		}
		if err := p.setup(ctx, c); err != nil {
			return fmt.Errorf("setup of plugin %s: %w", p.name, err)
		}
	}

	protocols := []string{"http"}
	if cert != nil {
		if err := addBenchCert(ctx, c, cert); err != nil {
			return err
		}
		protocols = []string{"http", "https"}
	}
	var svc struct {
		ID string `json:"id"`
	}
	if err := c.Post(ctx, "/projects/default/services",
		map[string]any{"name": "bench", "protocols": protocols}, &svc); err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	if svc.ID == "" {
		return fmt.Errorf("create service: the answer has no id")
	}
	base := "/projects/default/services/" + svc.ID
	route := map[string]any{"name": "bench", "paths": []string{benchPath}, "methods": []string{"GET"}}
	if routePl != nil {
		route["plugins"] = routePl
		route["methods"] = []string{"GET", "POST"}
	}
	for _, p := range plugins {
		maps.Copy(route, p.route)
	}
	if err := c.Post(ctx, base+"/routes", route, nil); err != nil {
		return fmt.Errorf("create route: %w", err)
	}
	upstream := map[string]any{
		"scheme": "http",
		"nodes":  []map[string]any{{"host": host, "port": port, "weight": 100}},
	}
	for _, p := range plugins {
		maps.Copy(upstream, p.upstream)
	}
	if err := c.Post(ctx, base+"/publish",
		map[string]any{"group": "default", "version": "1.0.0", "upstream": upstream}, nil); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	for _, p := range plugins {
		if p.afterPublish == nil {
			continue
		}
		if err := p.afterPublish(ctx, c, base, upstream); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// porticoAllocs reads the heap objects allocated so far from the status
// port's Prometheus metrics (go_memstats_mallocs_total), when exposed.
func porticoAllocs(statusAddr string) (uint64, bool) {
	v, ok := scrapeMetric(statusAddr, "go_memstats_mallocs_total")
	return uint64(v), ok
}

// scrapeMetric reads one unlabelled sample from the /metrics of a status
// address.
func scrapeMetric(statusAddr, name string) (float64, bool) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + statusAddr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, false
	}
	return parseMetric(resp.Body, name)
}

// parseMetric finds the first sample of name in a Prometheus text
// exposition.
func parseMetric(r io.Reader, name string) (float64, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		return v, true
	}
	return 0, false
}

// refproxyAllocs reads the refproxy's /allocs counter.
func refproxyAllocs(statsAddr string) (uint64, bool) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + statsAddr + "/allocs")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}
