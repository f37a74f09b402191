package fast

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
)

// head is what one pass over the raw request header found.
type head struct {
	hopByHop bool // a hop-by-hop header is present
	expect   bool // an Expect header is present
	reqID    bool // an X-Request-Id header is present
	upgrade  bool // Connection: upgrade with an Upgrade header
	chunked  bool
}

// readHead checks the request as fasthttp parsed it against the gateway's
// request policy (reqpolicy: header syntax, body framing, Host, version)
// and normalises its path. It refuses, with the reason, what a gateway
// must never forward because two parsers could read it differently
// (request smuggling), and notes what the upstream request needs.
func (st *state) readHead() (h head, bad string) {
	req := &st.ctx.Request
	if reason := reqpolicy.VersionReason(req.Header.Protocol()); reason != "" {
		return h, reason
	}
	var sawUpgrade, connUpgrade bool
	scan := &st.scan
	scan.Reset()
	raw := req.Header.RawHeaders()
	for len(raw) > 0 {
		end := bytes.IndexByte(raw, '\n')
		if end < 0 {
			end = len(raw)
		}
		line := raw[:end]
		raw = raw[min(end+1, len(raw)):]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break // the blank line ending the header
		}
		name, value, ok := scan.Line(line)
		if !ok {
			return h, scan.Done()
		}
		switch len(name) {
		case len("Connection"):
			if equalFold(name, "Connection") {
				h.hopByHop = true
				connUpgrade = connUpgrade || st.noteConnection(value)
			}
		case len("Upgrade"):
			if equalFold(name, "Upgrade") {
				h.hopByHop, sawUpgrade = true, true
			}
		case len("Expect"):
			h.expect = h.expect || equalFold(name, "Expect")
		case len("X-Request-Id"):
			h.reqID = h.reqID || equalFold(name, "X-Request-Id")
		}
		if !h.hopByHop && isHopByHop(name) {
			h.hopByHop = true
		}
		if reqpolicy.IsIdentityHeader(name) {
			if st.idHeaders == len(st.idNames) {
				return h, "too many identity headers"
			}
			st.idNames[st.idHeaders] = name
			st.idHeaders++
		}
	}
	if bad := scan.Done(); bad != "" {
		return h, bad
	}
	if scan.Chunked && string(req.Header.Protocol()) == "HTTP/1.0" {
		return h, reqpolicy.ReasonChunkedHTTP10
	}
	h.chunked = req.Header.ContentLength() == -1
	h.upgrade = sawUpgrade && connUpgrade
	return h, st.normalizePath()
}

// noteConnection records the header names a Connection header lists (they
// are hop-by-hop) and reports whether it asks for an upgrade.
func (st *state) noteConnection(value []byte) (upgrade bool) {
	for len(value) > 0 {
		var tok []byte
		tok, value, _ = bytes.Cut(value, []byte{','})
		tok = bytes.TrimSpace(tok)
		switch {
		case len(tok) == 0, equalFold(tok, "close"), equalFold(tok, "keep-alive"):
		case equalFold(tok, "upgrade"):
			upgrade = true
		case st.hops < len(st.hopTokens):
			st.hopTokens[st.hops] = tok
			st.hops++
		}
	}
	return upgrade
}

// hopHeaders are removed from what passes the gateway, both ways (RFC 9110
// §7.6.1, with the usual proxy extras). Upgrade and Connection stay on a
// request being upgraded.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Upgrade",
}

func isHopByHop(name []byte) bool {
	for _, h := range hopHeaders {
		if len(h) == len(name) && equalFold(name, h) {
			return true
		}
	}
	return false
}

func equalFold(b []byte, s string) bool { return reqpolicy.EqualFold(b, s) }

// normalizePath sets st.path to the path routing and plugins see, and
// st.fwdPath to the escaped path the backend is sent (before any rewrite):
// the normalised request path (reqpolicy.Normalize), and the raw bytes as
// they came when nothing needed normalising.
func (st *state) normalizePath() string {
	raw := reqpolicy.RawPath(st.ctx.Request.Header.RequestURI())
	if string(raw) == "*" {
		st.path, st.fwdPath, st.pathClean = "*", raw, true
		return ""
	}
	p, clean, bad := reqpolicy.Normalize(st.pathBuf[:0], raw)
	if bad != "" {
		return bad
	}
	st.path, st.pathClean = b2s(p), clean
	if clean {
		st.fwdPath = raw
		return ""
	}
	st.pathBuf = p
	st.fwdBuf = reqpolicy.AppendEscaped(st.fwdBuf[:0], p)
	st.fwdPath = st.fwdBuf
	return ""
}

// rawQuery is the query of a request target without '?', or nil.
func rawQuery(uri []byte) []byte {
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		return uri[q+1:]
	}
	return nil
}

// dropClientHeaders removes, before any plugin runs, what of the client's
// header never reaches a backend: hop-by-hop headers (and those its
// Connection header names) and identity headers only the gateway may set.
// Removing them first means no client header can make the gateway drop a
// header a plugin set (Connection: close, X-Consumer-Id).
func (st *state) dropClientHeaders(h head) {
	hdr := &st.ctx.Request.Header
	if h.hopByHop {
		for i := range st.hops {
			hdr.DelBytes(st.hopTokens[i])
		}
		for _, name := range hopHeaders {
			if h.upgrade && (name == "Upgrade" || name == "Connection") {
				continue
			}
			hdr.Del(name)
		}
	}
	for i := range st.idHeaders {
		hdr.DelBytes(st.idNames[i])
	}
}

// shapeRequest turns the client's request into the upstream one, in place:
// target (the matched path, group prefix stripped, or the route's backend
// path), method, X-Forwarded-* and X-Request-Id in (hop-by-hop headers
// went before the plugins ran: dropClientHeaders). Host is set
// per node by the round trip.
func (st *state) shapeRequest(h head) {
	rt := st.route
	hdr := &st.ctx.Request.Header
	uri := hdr.RequestURI()
	query := b2s(rawQuery(uri))
	q, queryEdited := st.ex.UpstreamQuery()
	if queryEdited {
		query = q
	}
	switch {
	case st.ex.UpstreamPath() != "":
		st.setURI(escapePath(st.ex.UpstreamPath()), query)
	case rt.HasRewrite():
		st.setURI(escapePath(rt.UpstreamPath(st.path, &st.params)), query)
	case rt.StripPrefix() != "":
		p, ok := bytes.CutPrefix(st.fwdPath, []byte(rt.StripPrefix()))
		switch {
		case ok && len(p) == 0:
			p = []byte{'/'}
		case ok && p[0] == '/':
		default: // the prefix was escaped in the request: use the decoded form
			p = []byte(escapePath(rt.UpstreamPath(st.path, &st.params)))
		}
		st.setURI(b2s(p), query)
	case !st.pathClean || len(uri) > 0 && uri[0] != '/' || st.pool.BasePath != "" || queryEdited:
		// The backend gets the path that was matched, never the raw one;
		// absolute form becomes origin form; a registered API's base path
		// goes in front.
		st.setURI(b2s(st.fwdPath), query)
	}
	if rt.BackendMethod() != "" {
		hdr.SetMethod(rt.BackendMethod())
	}
	if h.expect {
		hdr.Del("Expect") // the gateway answered it; the body is already coming
	}
	// The client's Connection: close is for this hop; the server already
	// noted it.
	hdr.ResetConnectionClose()

	xff := st.xffBuf[:0]
	if prior := hdr.Peek("X-Forwarded-For"); len(prior) > 0 {
		xff = append(append(xff, prior...), ", "...)
	}
	xff = st.ClientAddr().AppendTo(xff)
	st.xffBuf = xff
	hdr.SetCanonical(keyForwardedFor, xff)
	hdr.SetCanonical(keyForwardedHost, hdr.Host())
	if st.ctx.IsTLS() {
		hdr.SetCanonical(keyForwardedProto, valueHTTPS)
	} else {
		hdr.SetCanonical(keyForwardedProto, valueHTTP)
	}
	// One id upstream, the one the client is answered with.
	if h.reqID {
		hdr.Del("X-Request-Id")
	}
	hdr.SetCanonical(keyRequestID, st.idBuf)
	// The trace goes on upstream with the upstream call as its parent.
	if tp := st.call.Traceparent(&st.s.cfg.Telemetry); tp != nil {
		hdr.SetCanonical(keyTraceparent, tp)
	}
}

// The headers every proxied request gets, in fasthttp's canonical form:
// SetCanonical skips the copy and case-normalising of the key that Set
// does on every call.
var (
	keyForwardedFor   = []byte("X-Forwarded-For")
	keyForwardedHost  = []byte("X-Forwarded-Host")
	keyForwardedProto = []byte("X-Forwarded-Proto")
	keyRequestID      = []byte("X-Request-Id")
	keyTraceparent    = []byte("Traceparent")
	valueHTTP         = []byte("http")
	valueHTTPS        = []byte("https")
)

// setURI sets the upstream request target: the upstream's base path (a
// registered API's), path and query.
func (st *state) setURI(path string, query string) {
	b := append(st.uriBuf[:0], st.pool.BasePath...)
	b = append(b, path...)
	if len(query) > 0 {
		b = append(append(b, '?'), query...)
	}
	st.uriBuf = b
	st.ctx.Request.SetRequestURIBytes(b)
}

// escapePath escapes a decoded path for the request line. Only paths a
// plugin or a backend path template made take this (allocating) way.
func escapePath(p string) string {
	if !strings.ContainsAny(p, "%?# \t\"<>\\^`{|}") && isASCIIPrintable(p) {
		return p
	}
	return (&url.URL{Path: p}).EscapedPath()
}

func isASCIIPrintable(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
