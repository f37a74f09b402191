package main

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/adminclient"
)

// benchCanary is a running canary release at 50 % on the bench route: the
// target is the same origin reached through a second upstream pool, so the
// row measures what the split costs (the choice, the per-side figures, a
// second pool), not a different backend.
var benchCanary = routePlugin{name: "canary", afterPublish: startBenchCanary}

// canaryBench is the portico-fast-canary row's route: the canary alone.
var canaryBench = []routePlugin{benchCanary}

func startBenchCanary(ctx context.Context, c *adminclient.Client, serviceBase string, upstream map[string]any) error {
	var task struct {
		State string `json:"state"`
	}
	err := c.Post(ctx, serviceBase+"/canary",
		map[string]any{"group": "default", "weight": 50, "target": map[string]any{"upstream": upstream}}, &task)
	if err != nil {
		return fmt.Errorf("start canary: %w", err)
	}
	if task.State != "running" {
		return fmt.Errorf("start canary: task is %q, want running", task.State)
	}
	return nil
}
