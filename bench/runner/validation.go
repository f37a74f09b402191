package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The request-validation rows post a JSON body of about 1 KiB: the plain
// row (portico-fast-post) proxies it, the validation row checks it (and
// the query's limit) against the route's OpenAPI operation first. Their
// difference is what validating a body costs.

// benchOrder is the posted body: an order with a user and items, 1 KiB.
var benchOrder = func() []byte {
	var items []string
	for i := 0; ; i++ {
		b := `{"note":"leave at the door","user":{"name":"Ada Lovelace","email":"ada@example.com","age":36},"items":[` +
			strings.Join(items, ",") + `]}`
		if len(b) >= 1024 {
			return []byte(b)
		}
		items = append(items, fmt.Sprintf(`{"sku":"SKU-%05d","qty":%d,"price":12.5}`, i, i%5+1))
	}
}()

// benchOperation is the bench route's OpenAPI operation: what
// request-validation checks. The body is optional, so that the runner's
// GET checks of the route pass.
var benchOperation = map[string]any{
	"parameters": []any{map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "maximum": 100}}},
	"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
		"type": "object", "required": []string{"user", "items"}, "properties": map[string]any{
			"note": map[string]any{"type": "string", "maxLength": 200},
			"user": map[string]any{"type": "object", "required": []string{"name", "email"}, "properties": map[string]any{
				"name": map[string]any{"type": "string"}, "email": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer", "minimum": 0}}},
			"items": map[string]any{"type": "array", "maxItems": 100, "items": map[string]any{"type": "object", "required": []string{"sku", "qty"},
				"properties": map[string]any{"sku": map[string]any{"type": "string"}, "qty": map[string]any{"type": "integer", "minimum": 1},
					"price": map[string]any{"type": "number"}}}}}}}}},
}

var (
	// postBench proxies the posted body with nothing on the route.
	postBench = []routePlugin{{name: "POST of a 1 KiB JSON body", body: benchOrder,
		route: map[string]any{"methods": []string{"GET", "POST"}}}}
	// validationBench validates it with request-validation.
	validationBench = []routePlugin{{name: "request-validation", config: map[string]any{}, body: benchOrder,
		route: map[string]any{"openapi": benchOperation}, probe: probeValidation}}
)

// pluginBody is the body the row's load posts; nil: the load GETs.
func pluginBody(plugins []routePlugin) []byte {
	for _, p := range plugins {
		if p.body != nil {
			return p.body
		}
	}
	return nil
}

// withBody makes ld post body as JSON (through a wrk script); nil body
// leaves ld as it is. Only wrk posts bodies.
func withBody(ld loader, body []byte, dir string) (loader, error) {
	if body == nil {
		return ld, nil
	}
	w, ok := ld.(wrkLoader)
	if !ok {
		return nil, errSkip("a row that posts a body needs wrk (apt-get install wrk)")
	}
	if strings.Contains(string(body), "]==]") {
		return nil, fmt.Errorf("the body cannot be quoted in the wrk script")
	}
	script := filepath.Join(dir, "post-body.lua")
	lua := "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[" + string(body) + "]==]\n"
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return nil, err
	}
	w.script = script
	return w, nil
}

// probeValidation proves request-validation is on the route: a body
// missing a required member and a query limit that is no integer are
// answered 400 naming both.
func probeValidation(ctx context.Context, gatewayAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+gatewayAddr+benchPath+"?limit=ten",
		strings.NewReader(`{"items":[]}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "query.limit") || !strings.Contains(string(b), "body.user") {
		return fmt.Errorf("an invalid request was answered %d %s, want 400 naming query.limit and body.user", resp.StatusCode, b)
	}
	return nil
}
