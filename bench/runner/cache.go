package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// cacheBench caches the bench route's answers with proxy-cache (memory,
// an hour): after the probe's first call, every load request is a hit
// answered from the gateway's memory without reaching the origin — the
// row to set beside plain proxying.
var cacheBench = []routePlugin{{name: "proxy-cache", config: map[string]any{"ttl": 3600}, probe: probeCacheHit}}

// probeCacheHit fills the cache and proves the next call is a hit.
func probeCacheHit(ctx context.Context, gatewayAddr string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	var last string
	for range 3 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+gatewayAddr+benchPath, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if last = resp.Header.Get("X-Cache-Status"); last == "HIT" {
			return nil
		}
	}
	return fmt.Errorf("three calls of %s: the last answered X-Cache-Status %q, want HIT", benchPath, last)
}
