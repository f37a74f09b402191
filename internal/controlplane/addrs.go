package controlplane

import (
	"net"
	"strings"
)

// Default addresses. The admin API and the status endpoints answer only on
// loopback unless an operator opens them: the admin API is the keys to
// every route, and /metrics names every service. The gateway serves
// everyone, which is its job.
const (
	DefaultAdminAddr   = "127.0.0.1:9180"
	DefaultGatewayAddr = ":9080"
	DefaultStatusAddr  = "127.0.0.1:9091"
)

// loopbackOnly reports whether a listen address answers only this machine.
// An empty host or an unspecified address (0.0.0.0, ::) is every
// interface; a host name other than localhost may resolve anywhere.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
