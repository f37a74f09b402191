package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// waitHTTP polls url until it answers want (any status when want is 0), the
// process exits, or limit passes.
func waitHTTP(ctx context.Context, p *benchproc.Proc, url string, want int, limit time.Duration) error {
	return waitHTTPWith(ctx, p, url, nil, false, want, limit)
}

// waitHTTPWith is waitHTTP with request headers ("Name: value"), over
// HTTP/2 when h2 is set (an https URL).
func waitHTTPWith(ctx context.Context, p *benchproc.Proc, url string, headers []string, h2 bool, want int, limit time.Duration) error {
	client := checkClient(time.Second, h2)
	deadline := time.Now().Add(limit)
	last := "no answer"
	for {
		req, err := newGet(ctx, url, headers)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if want == 0 || resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited (%v) before %s answered:\n%s", p.Name, p.Err(), url, p.Tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %d within %v (last: %s)", url, want, limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newGet is a GET of url carrying headers ("Name: value" lines).
func newGet(ctx context.Context, url string, headers []string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("header %q: want Name: value", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return req, nil
}
