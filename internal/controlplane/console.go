package controlplane

import (
	"net"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
)

// serviceFigures reads per-service series from the embedded gateway for
// GET …/services/{s}/stats and the console's charts.
type serviceFigures struct{ reg *svcstats.Registry }

func (f serviceFigures) ServicePoints(group, serviceID string, window, step time.Duration) ([]svcstats.Point, bool) {
	s, ok := f.reg.Lookup(group, serviceID)
	if !ok {
		return nil, false
	}
	return s.Points(window, step, time.Now()), true
}

// gatewayAddr is the embedded gateway's bound address, once it listens.
func (r *readiness) gatewayAddr() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addrs.Gateway, r.addrs.Gateway != ""
}

// gatewayURL is where the debug endpoint reaches the embedded gateway: its
// bound address, for the groups it serves.
func (r *readiness) gatewayURL(group string) (string, bool) {
	r.mu.Lock()
	addr := r.addrs.Gateway
	r.mu.Unlock()
	if addr == "" || !slices.Contains(r.opts.Groups, group) {
		return "", false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), true
}
