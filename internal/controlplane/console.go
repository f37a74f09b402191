package controlplane

import (
	"net"
	"slices"
)

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
