package nethttp

import (
	"net/textproto"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
)

// admit applies the gateway's request policy (reqpolicy) before the route
// is looked up, as the fast engine does: the head as it came off the wire
// (sniff.go), the Host, and the path, which is normalised in r.URL so
// routing, plugins and the backend all see the one that was matched. It
// returns why the request is refused, or "".
func (st *state) admit() string {
	r := st.r
	if cc := st.clientConn(); cc != nil {
		if reason := cc.refusal(); reason != "" {
			return reason
		}
	}
	if !reqpolicy.ValidHost(r.Host) {
		return reqpolicy.ReasonBadHost
	}
	if r.RequestURI == "*" {
		return ""
	}
	st.rawBuf = append(st.rawBuf[:0], r.RequestURI...)
	p, clean, reason := reqpolicy.Normalize(st.pathBuf[:0], reqpolicy.RawPath(st.rawBuf))
	switch {
	case reason != "":
		return reason
	case !clean:
		st.pathBuf = p
		r.URL.Path = string(p)
		r.URL.RawPath = string(reqpolicy.AppendEscaped(nil, p))
	}
	return ""
}

// dropClientHeaders removes, before any plugin runs, what of the client's
// header never reaches a backend: the headers its Connection header names
// (hop-by-hop; the standard ones are left out by buildOut) and identity
// headers only the gateway may set. Removing them first means no client
// header can make the gateway drop one a plugin set
// (Connection: close, X-Consumer-Id).
func (st *state) dropClientHeaders() {
	h := st.r.Header
	for k := range h {
		if reqpolicy.IsIdentityHeader(k) {
			delete(h, k)
		}
	}
	for _, v := range h["Connection"] {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			tok = textproto.TrimString(tok)
			switch {
			case tok == "", strings.EqualFold(tok, "close"), strings.EqualFold(tok, "keep-alive"),
				strings.EqualFold(tok, "upgrade"), strings.EqualFold(tok, "connection"):
			default:
				delete(h, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
}
