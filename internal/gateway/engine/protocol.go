package engine

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// AnswerListener answers a request its route does not serve on the
// listener it came in on (routing.Route.Over gave status): 404 as for no
// route on the other listener's address, 426 asking for HTTPS, or a
// redirect to the same URL over HTTPS. tlsPort is the gateway's TLS port
// (0: none, so no redirect). The redirect keeps the host the client asked
// for, with the TLS port only when the client named a port itself (a
// client behind a load balancer on 443 names none); a host that is not a
// plain name or address gets 426 rather than a Location built from it.
func AnswerListener(ex *plugin.Exchange, status, tlsPort int, hasCertificate func(host string) bool) {
	switch status {
	case http.StatusNotFound:
		ex.Reject(http.StatusNotFound, "route_not_found", "no route matches this request")
		return
	case http.StatusUpgradeRequired:
	default:
		if loc, ok := httpsURL(ex, tlsPort, hasCertificate); ok {
			ex.SetResponseHeader("Location", loc)
			ex.Reject(status, "https_required", "this service answers over HTTPS: "+loc)
			return
		}
	}
	ex.Reject(http.StatusUpgradeRequired, "https_required", "this service answers over HTTPS only")
}

// httpsURL is the request's URL over HTTPS, for a host a certificate of
// the gateway names: a Location is never built from any other Host a
// client sent (a shared cache in front would keep the redirect).
func httpsURL(ex *plugin.Exchange, tlsPort int, hasCertificate func(string) bool) (string, bool) {
	if tlsPort == 0 {
		return "", false
	}
	host, port := ex.Header("Host"), ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		host, port = h, p
	}
	if !plainHost(host) || !hasCertificate(host) {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && tlsPort != 443 {
		host += ":" + strconv.Itoa(tlsPort)
	}
	u := url.URL{Scheme: "https", Host: host, Path: ex.Path(), RawQuery: ex.RawQuery()}
	return u.String(), true
}

// Misdirected answers a request for a host whose certificate verifies
// client certificates against other CAs than the certificate of the name
// the TLS connection was made for (routing.Table.SameClientCAs).
func Misdirected(ex *plugin.Exchange) {
	ex.Reject(http.StatusMisdirectedRequest, "misdirected_request", "this connection was made for another host: open one for this host")
}

// plainHost reports whether h is a host name or an IP address, nothing
// a URL would read otherwise.
func plainHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
