package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/adminclient"
)

// compositeBench is the portico-fast-composite row: the bench route is a
// composite API of two parallel calls of another API of the group (a plain
// proxied route to the origin), called in-process, with their answers
// merged into one JSON body. Its CPU per request is read beside twice the
// portico-fast row's: what one composite call costs against a client
// making the two proxied calls itself, one after the other.
var compositeBench = []routePlugin{{name: "composite", afterPublish: switchBenchToComposite, probe: probeComposite}}

// switchBenchToComposite publishes the called API (service "legs", route
// "leg" at /leg, to the origin) and turns the bench route into the
// composite of two calls of it, published as 1.0.1.
func switchBenchToComposite(ctx context.Context, c *adminclient.Client, serviceBase string, upstream map[string]any) error {
	var legs struct {
		ID string `json:"id"`
	}
	if err := c.Post(ctx, "/projects/default/services", map[string]any{"name": "legs", "protocols": []string{"http"}}, &legs); err != nil {
		return fmt.Errorf("create the called service: %w", err)
	}
	legsBase := "/projects/default/services/" + legs.ID
	if err := c.Post(ctx, legsBase+"/routes", map[string]any{"name": "leg", "paths": []string{"/leg"}, "methods": []string{"GET"}}, nil); err != nil {
		return fmt.Errorf("create the called route: %w", err)
	}
	if err := c.Post(ctx, legsBase+"/publish", map[string]any{"group": "default", "version": "1.0.0", "upstream": upstream}, nil); err != nil {
		return fmt.Errorf("publish the called service: %w", err)
	}
	backend := map[string]any{"type": "composite", "composite": map[string]any{
		"steps": []map[string]any{
			{"name": "a", "service": "legs", "route": "leg"},
			{"name": "b", "service": "legs", "route": "leg"},
		},
		"response": map[string]any{"body": `{"a": steps.a.body, "b": steps.b.body}`},
	}}
	if err := c.Patch(ctx, serviceBase+"/routes/bench", map[string]any{"backend": backend}, nil); err != nil {
		return fmt.Errorf("make the bench route a composite: %w", err)
	}
	if err := c.Post(ctx, serviceBase+"/publish",
		map[string]any{"group": "default", "version": "1.0.1", "upstream": upstream}, nil); err != nil {
		return fmt.Errorf("publish the composite route: %w", err)
	}
	return nil
}

// probeComposite waits until the bench route answers as the composite
// (a JSON object holding both calls' answers).
func probeComposite(ctx context.Context, gatewayAddr string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+gatewayAddr+benchPath, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && len(b) > 0 && b[0] == '{' {
			return nil
		}
		last = fmt.Sprintf("%d %q", resp.StatusCode, b)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the bench route did not answer as the composite: last %s", last)
}
