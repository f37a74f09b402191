package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminclient"
)

// routePlugin is one gateway policy on the bench route of a *-plugins row.
// Adding a policy to the row is one entry in benchPlugins: its name and
// configuration as the admin API takes them, and, when the policy needs
// them, the headers every load request must carry (key-auth's key), admin
// objects to create before the route is published (key-auth's consumer)
// and a probe that proves the policy is live on the route.
type routePlugin struct {
	name    string
	config  any
	headers []string                                               // "Name: value" lines the load sends
	setup   func(ctx context.Context, c *adminclient.Client) error // runs after login, before the service is created
	probe   func(ctx context.Context, gatewayAddr string) error
	// afterPublish runs once the service is published; a policy that is
	// not a route plugin (the canary) has no config and is set up here.
	afterPublish func(ctx context.Context, c *adminclient.Client, serviceBase string, upstream map[string]any) error
	// upstream are fields the published upstream takes (a balancer).
	upstream map[string]any
	// route are fields of the bench route it sets (its OpenAPI
	// operation, methods).
	route map[string]any
	// body is what every load request posts (as JSON); nil: the load GETs.
	body []byte
}

// The balancer rows' upstreams: least_conn, and chash keyed by a header
// every load request carries (so every request hashes).
var (
	leastConnBench = []routePlugin{{name: "least_conn", upstream: map[string]any{"load_balancer": "least_conn"}}}
	ewmaBench      = []routePlugin{{name: "ewma", upstream: map[string]any{"load_balancer": "ewma"}}}
	chashBench     = []routePlugin{{name: "chash", headers: []string{"X-User: bench-user-42"},
		upstream: map[string]any{"load_balancer": "chash", "hash_on": "header:X-User"}}}
	// checkedBench probes the origin every second and watches every
	// answer (passive checks): what a health-checked upstream costs a
	// request.
	checkedBench = []routePlugin{{name: "health checks", upstream: map[string]any{"checks": map[string]any{
		"active": map[string]any{"path": "/", "interval": 1}, "passive": map[string]any{}}}}}
)

// sizeLimit is request-size-limit's max_bytes on the bench route.
const sizeLimit = 1 << 20

// benchPlugins are the policies of the portico-*-plugins rows: the goal's
// key-auth + limit-count (local) + ip-restriction + a 50 % canary, plus
// request-size-limit.
var benchPlugins = []routePlugin{
	benchKeyAuth,
	{name: "ip-restriction", config: map[string]any{"allow": []string{"127.0.0.1"}}},
	// Counted per client address like a real quota, with a limit no run
	// reaches, so every request pays the counting and the headers.
	{name: "limit-count", config: map[string]any{"count": 1 << 40, "time_window": 3600, "key": "remote_addr", "policy": "local"}},
	{name: "request-size-limit", config: map[string]any{"max_bytes": sizeLimit}, probe: probeSizeLimit},
	benchCanary,
}

// goalPlugins are the policies the plugins row's goal is specified with.
var goalPlugins = []string{"key-auth", "limit-count", "ip-restriction", "canary"}

// missingGoalPlugins are the goal's policies that plugins does not carry.
func missingGoalPlugins(plugins []routePlugin) []string {
	var out []string
	for _, name := range goalPlugins {
		if !slices.ContainsFunc(plugins, func(p routePlugin) bool { return p.name == name }) {
			out = append(out, name)
		}
	}
	return out
}

func pluginNames(plugins []routePlugin) []string {
	out := make([]string, 0, len(plugins))
	for _, p := range plugins {
		out = append(out, p.name)
	}
	return out
}

func pluginHeaders(plugins []routePlugin) []string {
	var out []string
	for _, p := range plugins {
		out = append(out, p.headers...)
	}
	return out
}

// routePlugins is the route's "plugins" object of the admin API; nil when
// there are none.
func routePlugins(plugins []routePlugin) (map[string]any, error) {
	if len(plugins) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(plugins))
	seen := make(map[string]bool, len(plugins))
	for _, p := range plugins {
		if seen[p.name] {
			return nil, fmt.Errorf("plugin %s listed twice", p.name)
		}
		seen[p.name] = true
		if p.config != nil {
			out[p.name] = p.config
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// describePlugins is the footnote form: name {config}, ….
func describePlugins(plugins []routePlugin) string {
	parts := make([]string, 0, len(plugins))
	for _, p := range plugins {
		if p.config == nil {
			parts = append(parts, p.name+" (50 % to a second pool on the same origin)")
			continue
		}
		b, err := json.Marshal(p.config)
		if err != nil {
			b = []byte("?")
		}
		parts = append(parts, p.name+" "+string(b))
	}
	return strings.Join(parts, ", ")
}

// probeSizeLimit proves request-size-limit is on the route: a POST
// declaring one byte over the limit is answered 413. Part of the body is
// sent (the fast engine prefetches up to 16 KiB before its handler runs;
// net/http answers on the header alone) while the answer is read. A
// connection lost before any answer is retried; a wrong status is not.
func probeSizeLimit(ctx context.Context, gatewayAddr string) error {
	var err error
	for range 3 {
		var status int
		status, err = sizeLimitAttempt(ctx, gatewayAddr)
		switch {
		case err != nil:
			continue
		case status != http.StatusRequestEntityTooLarge:
			return fmt.Errorf("a request declaring %d bytes (limit %d) was answered %d, want 413", sizeLimit+1, sizeLimit, status)
		default:
			return nil
		}
	}
	return fmt.Errorf("a request declaring %d bytes got no answer: %w", sizeLimit+1, err)
}

// probeBodySent is how much of the declared body the probe sends.
const probeBodySent = 64 << 10

func sizeLimitAttempt(ctx context.Context, gatewayAddr string) (int, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", gatewayAddr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// The row's key is sent, so the request reaches the size check
	// behind key-auth.
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n",
		benchPath, gatewayAddr, headerLines(benchKeyAuth.headers), sizeLimit+1)
	go func() {
		// Errors are expected once the gateway refuses and closes.
		if _, err := c.Write([]byte(head)); err == nil {
			_, _ = c.Write(bytes.Repeat([]byte{'x'}, probeBodySent))
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// headerLines renders "Name: value" lines of a raw request.
func headerLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	return b.String()
}
