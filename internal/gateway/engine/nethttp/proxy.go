package nethttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// errNoNode is a pool with no node to send to (all drained or none yet
// discovered): 503, not 502, because nothing failed.
var errNoNode = errors.New("upstream has no available node")

// rewrite shapes the outgoing request: path (group prefix stripped or the
// route's backend path), method (backend.method), Host per pass_host,
// X-Forwarded-*. The node's address is filled by the balancer, which may
// retry on another one.
func (st *state) rewrite(pr *httputil.ProxyRequest) {
	rt := st.route
	pool := rt.Upstream
	out := pr.Out
	out.URL.Scheme = pool.Scheme
	out.URL.Host = "upstream" // replaced by the balancer
	switch {
	case st.ex.UpstreamPath() != "":
		out.URL.Path, out.URL.RawPath = st.ex.UpstreamPath(), ""
	case rt.HasRewrite():
		out.URL.Path, out.URL.RawPath = rt.UpstreamPath(pr.In.URL.Path, &st.params), ""
	case rt.StripPrefix != "":
		out.URL.Path = rt.UpstreamPath(pr.In.URL.Path, &st.params)
		// Keep the client's escaping when it survives the strip.
		raw, ok := strings.CutPrefix(pr.In.URL.RawPath, rt.StripPrefix)
		if !ok || raw == "" || raw[0] != '/' {
			raw = ""
		}
		out.URL.RawPath = raw
	}
	if rt.BackendMethod != "" {
		out.Method = rt.BackendMethod
	}
	switch pool.PassHost {
	case "node":
		out.Host = "" // the node's address, set by the balancer
	case "rewrite":
		out.Host = pool.UpstreamHost
	}
	// Behind a load balancer the chain matters: keep it and add the peer.
	if xff := pr.In.Header["X-Forwarded-For"]; len(xff) > 0 {
		out.Header["X-Forwarded-For"] = xff
	}
	pr.SetXForwarded()
}

// modifyResponse runs the route's response filters on the backend's answer.
func (st *state) modifyResponse(resp *http.Response) error {
	st.resp = resp
	// The gateway's X-Request-Id is already set; a backend's copy would
	// repeat it.
	resp.Header.Del("X-Request-Id")
	for _, f := range st.route.Response {
		f.OnResponse(&st.ex)
	}
	// Set only now: a filter that panicked has sent nothing, so the
	// recover still answers 500.
	st.status = resp.StatusCode
	return nil
}

// proxyError answers a failed upstream call in the gateway's JSON shape.
func (st *state) proxyError(_ http.ResponseWriter, r *http.Request, err error) {
	h := st.h
	if r.Context().Err() != nil {
		// The client left; nobody reads an answer. Metrics count a 499.
		h.obs.UpstreamError(st.route, "client_closed")
		return
	}
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge):
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this route allows")
	case errors.Is(err, errNoNode):
		h.obs.UpstreamError(st.route, "no_node")
		st.ex.Reject(http.StatusServiceUnavailable, "no_upstream", "the upstream has no available node")
	case isTimeout(err):
		h.obs.UpstreamError(st.route, "timeout")
		st.ex.Reject(http.StatusGatewayTimeout, "upstream_timeout", "the upstream did not answer in time")
	default:
		kind := "connect"
		if !isDialError(err) {
			kind = "broken"
		}
		h.obs.UpstreamError(st.route, kind)
		h.log.Debug("upstream call failed", "err", err, "request_id", st.ex.RequestID())
		st.ex.Reject(http.StatusBadGateway, "upstream_unavailable", "the upstream could not be reached")
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
