package adminapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// GatewayURL answers the base URL (http://host:port) of a gateway serving
// group, as the control plane can reach it; false when none does.
type GatewayURL func(group string) (string, bool)

// debugRequest is the body of POST …/services/{s}/debug (the console's Debug
// tab): one request sent through a gateway group as a client would.
type debugRequest struct {
	Group   string            `json:"group,omitempty"` // default: the project's test group
	Method  string            `json:"method,omitempty"`
	Path    string            `json:"path"` // under the service's URL in the group; may carry ?query
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

type debugResponse struct {
	URL       string            `json:"url"`
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Truncated bool              `json:"truncated,omitempty"`
	LatencyMs float64           `json:"latency_ms"`
}

const (
	debugMaxAnswer = 1 << 20
	debugTimeout   = 30 * time.Second
)

var debugMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

func (c *call) debugService() (any, error) {
	var req debugRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	ref, err := checkDebugRequest(&req)
	if err != nil {
		return nil, err
	}
	project, sid := c.path("p"), c.path("s")
	var target string
	err = c.view(func(tx store.Tx) error {
		svc, err := c.loadService(tx, project, sid)
		if err != nil {
			return err
		}
		p, err := c.loadProject(tx, project)
		if err != nil {
			return err
		}
		if req.Group == "" {
			req.Group = p.TestGroup
		}
		g, err := tx.GetGroup(c.ctx(), req.Group)
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("group", "gateway group %q does not exist", req.Group)
		}
		if err != nil {
			return fmt.Errorf("debug: group %q: %w", req.Group, err)
		}
		target = spec.GroupPrefix(g.PathPrefix, project) + strings.TrimRight(svc.EffectivePath(), "/")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c.sendToGroup(req, target, ref)
}

// checkDebugRequest checks a debug or try-it request and answers its path
// and query.
func checkDebugRequest(req *debugRequest) (*url.URL, error) {
	req.Method = strings.ToUpper(strings.TrimSpace(req.Method))
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	var fe spec.FieldErrors
	if !debugMethods[req.Method] {
		fe.Add("method", "must be one of GET POST PUT PATCH DELETE HEAD OPTIONS")
	}
	ref, err := url.Parse(req.Path)
	if req.Path == "" || !strings.HasPrefix(req.Path, "/") || strings.HasPrefix(req.Path, "//") || err != nil || ref.Host != "" || ref.Scheme != "" {
		// Only a path: the request must go to the gateway, nowhere else.
		fe.Add("path", "must be a path beginning with / (a query may follow)")
	}
	for name := range req.Headers {
		if name == "" || strings.ContainsAny(name, " :\r\n") {
			fe.Add("headers", "header name %q is not valid", name)
		}
	}
	return ref, fe.Err()
}

// sendToGroup sends req to target (the service's path in req.Group) on a
// gateway of the group this control plane reaches.
func (c *call) sendToGroup(req debugRequest, target string, ref *url.URL) (debugResponse, error) {
	base, ok := "", false
	if c.s.gatewayURL != nil {
		base, ok = c.s.gatewayURL(req.Group)
	}
	if !ok {
		return debugResponse{}, fieldError("group", "no gateway this control plane can reach serves group %q", req.Group)
	}
	u := base + target + ref.EscapedPath()
	if ref.RawQuery != "" {
		u += "?" + ref.RawQuery
	}
	return sendDebug(c.ctx(), req, u)
}

// sendDebug sends the request and reads at most debugMaxAnswer bytes of the answer.
func sendDebug(ctx context.Context, req debugRequest, u string) (debugResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, debugTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, strings.NewReader(req.Body))
	if err != nil {
		return debugResponse{}, fieldError("path", "cannot build a request: %v", err)
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, "Host") {
			hr.Host = v
			continue
		}
		hr.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := debugClient.Do(hr)
	if err != nil {
		// The gateway did not answer: a result for the person debugging, not a failure of this call.
		return debugResponse{URL: u, Status: 0, Headers: map[string]string{}, Body: "request failed: " + err.Error(),
			LatencyMs: ms(time.Since(start))}, nil
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	n, _ := io.Copy(&buf, io.LimitReader(resp.Body, debugMaxAnswer+1))
	out := debugResponse{URL: u, Status: resp.StatusCode, Headers: map[string]string{}, LatencyMs: ms(time.Since(start))}
	if n > debugMaxAnswer {
		buf.Truncate(debugMaxAnswer)
		out.Truncated = true
	}
	out.Body = buf.String()
	for k, v := range resp.Header {
		out.Headers[k] = strings.Join(v, ", ")
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// debugClient never follows redirects: the tab shows what the gateway said.
var debugClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
