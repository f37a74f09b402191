package fast

import (
	"bytes"
	"net/url"
	"strings"
)

// head is what one pass over the raw request header found.
type head struct {
	hopByHop bool // a hop-by-hop header is present
	expect   bool // an Expect header is present
	reqID    bool // an X-Request-Id header is present
	upgrade  bool // Connection: upgrade with an Upgrade header
	chunked  bool
}

// tokenChars marks the bytes allowed in a header name (RFC 9110 tchar).
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// valueChars marks the bytes allowed in a header value: visible ASCII,
// space, tab and obs-text; no other control byte and no DEL.
var valueChars = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// readHead checks the request as fasthttp parsed it and decodes its path.
// It refuses, with the reason, what a gateway must never forward because
// two parsers could read it differently (request smuggling): a body framed
// by both Content-Length and Transfer-Encoding, folded header lines, bytes
// that are not allowed in header names or values.
func (st *state) readHead() (h head, bad string) {
	req := &st.ctx.Request
	var sawCL, sawTE, sawUpgrade, connUpgrade, badTE bool
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
		if line[0] == ' ' || line[0] == '\t' {
			return h, "folded header lines (obs-fold) are not accepted"
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, "a header line has no name"
		}
		name, value := line[:colon], line[colon+1:]
		for _, c := range name {
			if !tokenChars[c] {
				return h, "a header name holds a character that is not allowed"
			}
		}
		for _, c := range value {
			if !valueChars[c] {
				return h, "a header value holds a control character"
			}
		}
		switch len(name) {
		case len("Content-Length"):
			sawCL = sawCL || equalFold(name, "Content-Length")
		case len("Transfer-Encoding"):
			if equalFold(name, "Transfer-Encoding") {
				sawTE = true
				badTE = badTE || !equalFold(trimSpace(value), "chunked")
			}
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
	}
	if sawCL && sawTE {
		return h, "Content-Length and Transfer-Encoding together are not accepted"
	}
	if badTE {
		return h, "a Transfer-Encoding other than chunked is not accepted"
	}
	h.chunked = req.Header.ContentLength() == -1
	h.upgrade = sawUpgrade && connUpgrade
	return h, st.decodePath()
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

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// decodePath sets st.path to the decoded path of the request target, the
// view routing and plugins see (as net/http's URL.Path). It is the raw
// bytes when nothing is escaped.
func (st *state) decodePath() string {
	raw := rawPath(st.ctx.Request.Header.RequestURI())
	if len(raw) == 0 || raw[0] != '/' {
		if string(raw) == "*" {
			st.path = "*"
			return ""
		}
		return "the request target is not a path"
	}
	if bytes.IndexByte(raw, '%') < 0 {
		st.path = b2s(raw)
		return ""
	}
	buf := st.pathBuf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || unhex(raw[i+1]) < 0 || unhex(raw[i+2]) < 0 {
				return "the request path holds an invalid escape"
			}
			c = byte(unhex(raw[i+1])<<4 | unhex(raw[i+2]))
			i += 2
		}
		buf = append(buf, c)
	}
	st.pathBuf = buf
	st.path = b2s(buf)
	return ""
}

// rawPath is the escaped path of a request target: origin form up to the
// query, or the path of an absolute-form target.
func rawPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i > 0 {
			rest := uri[i+3:]
			j := bytes.IndexByte(rest, '/')
			if j < 0 {
				return []byte{'/'}
			}
			uri = rest[j:]
		}
	}
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	return uri
}

// rawQuery is the query of a request target without '?', or nil.
func rawQuery(uri []byte) []byte {
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		return uri[q+1:]
	}
	return nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// shapeRequest turns the client's request into the upstream one, in place:
// target (group prefix stripped or the route's backend path), method,
// hop-by-hop headers out, X-Forwarded-* and X-Request-Id in. Host is set
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
	case rt.StripPrefix != "":
		raw := rawPath(uri)
		p, ok := bytes.CutPrefix(raw, []byte(rt.StripPrefix))
		switch {
		case ok && len(p) == 0:
			p = []byte{'/'}
		case ok && p[0] == '/':
		default: // the prefix was escaped in the request: use the decoded form
			p = []byte(escapePath(rt.UpstreamPath(st.path, &st.params)))
		}
		st.setURI(b2s(p), query)
	case len(uri) > 0 && uri[0] != '/' || st.pool.BasePath != "" || queryEdited:
		// Absolute form becomes origin form; a registered API's base path
		// goes in front.
		st.setURI(b2s(rawPath(uri)), query)
	}
	if rt.BackendMethod != "" {
		hdr.SetMethod(rt.BackendMethod)
	}
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
	hdr.SetBytesV("X-Forwarded-For", xff)
	hdr.SetBytesV("X-Forwarded-Host", hdr.Host())
	if st.ctx.IsTLS() {
		hdr.Set("X-Forwarded-Proto", "https")
	} else {
		hdr.Set("X-Forwarded-Proto", "http")
	}
	// One id upstream, the one the client is answered with.
	if h.reqID {
		hdr.Del("X-Request-Id")
	}
	hdr.SetBytesV("X-Request-Id", st.idBuf)
}

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

// trimSpace drops optional whitespace (spaces and tabs) around b.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
