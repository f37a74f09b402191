package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/adminclient"
)

// benchKey is the key-auth key the load of the policies row sends.
const benchKey = "bench-key-0123456789abcdef0123456789abcdef"

// benchKeyAuth is key-auth on the bench route, with a project application
// holding benchKey (a project's own call credentials need no subscription).
var benchKeyAuth = routePlugin{
	name: "key-auth", config: map[string]any{"header": "apikey"},
	headers: []string{"apikey: " + benchKey},
	setup:   createBenchConsumer,
	probe:   probeKeyAuth,
}

// policiesBench is the policies row: key-auth + limit-count (local, a limit
// no run reaches) + ip-restriction, to compare with plain fast (goal:
// ≥ 0.9× its rps, i.e. ≤ 1.11× its CPU per request).
var policiesBench = []routePlugin{
	benchKeyAuth,
	{name: "limit-count", config: map[string]any{"count": 1 << 40, "time_window": 3600, "key": "consumer", "policy": "local"}},
	{name: "ip-restriction", config: map[string]any{"allow": []string{"127.0.0.1"}}},
}

func createBenchConsumer(ctx context.Context, c *adminclient.Client) error {
	var app struct {
		ID string `json:"id"`
	}
	if err := c.Post(ctx, "/applications", map[string]any{"name": "bench", "project": "default"}, &app); err != nil {
		return fmt.Errorf("create the bench application: %w", err)
	}
	err := c.Post(ctx, "/applications/"+app.ID+"/credentials", map[string]any{"type": "key-auth", "key": benchKey}, nil)
	if err != nil {
		return fmt.Errorf("create the bench key: %w", err)
	}
	return nil
}

// probeKeyAuth proves key-auth is on the route: no key, 401.
func probeKeyAuth(ctx context.Context, gatewayAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+gatewayAddr+benchPath, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("a request without a key was answered %d, want 401", resp.StatusCode)
	}
	return nil
}
