package plugin

import (
	"crypto/x509"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/gateway/match"
)

// Exchange is one request as plugins see it. Engines own it: it is reset and
// reused between requests, so a plugin must not keep it (or strings it
// returns on a zero-copy engine) after its filter returns.
type Exchange struct {
	b         Backing
	requestID string
	traceID   string // W3C trace id in hex; "" when the engine keeps none
	route     *RouteInfo
	params    *match.Params

	upstreamPath  string
	upstreamHost  string
	upstreamQuery string
	queryEdited   bool
	consumer      Consumer
	hasConsumer   bool

	rejected     bool
	rejectStatus int
	rejectCode   string
	answered     bool // Respond or Reject wrote the answer
	errBuf       []byte
	note         string // SetNote's
	steps        []Step // SetSteps': a composite backend's calls
}

// Reset prepares the Exchange for a new request. Engines call it.
func (ex *Exchange) Reset(b Backing, requestID string, route *RouteInfo, params *match.Params) {
	buf := ex.errBuf[:0]
	*ex = Exchange{b: b, requestID: requestID, route: route, params: params, errBuf: buf}
}

// Release drops references to request state so the pool keeps nothing alive.
func (ex *Exchange) Release() {
	buf := ex.errBuf[:0]
	*ex = Exchange{errBuf: buf}
}

// Method is the client's request method.
func (ex *Exchange) Method() string { return ex.b.Method() }

// Path is the client's request path (decoded, without query).
func (ex *Exchange) Path() string { return ex.b.Path() }

// Host is the client's Host without port.
func (ex *Exchange) Host() string { return ex.b.Host() }

// Header returns the first value of a request header.
func (ex *Exchange) Header(name string) string { return ex.b.Header(name) }

// HeaderValues returns every value of a request header, in order (one per
// header line). The slice must not be kept or modified.
func (ex *Exchange) HeaderValues(name string) []string { return ex.b.HeaderValues(name) }

// Query returns the first value of a query parameter.
func (ex *Exchange) Query(name string) string { return ex.b.Query(name) }

// Cookie is the value of the request's cookie name ("" when absent),
// found in its Cookie header without allocating.
func (ex *Exchange) Cookie(name string) string { return cookieValue(ex.b.Header("Cookie"), name) }

// ConsumerName is the name of the consumer an authentication plugin
// admitted; "" before one did, or without one.
func (ex *Exchange) ConsumerName() string {
	if !ex.hasConsumer {
		return ""
	}
	return ex.consumer.Name
}

// RawQuery is the client's query string without '?'.
func (ex *Exchange) RawQuery() string { return ex.b.RawQuery() }

// ClientAddr is the address of the connection's peer.
func (ex *Exchange) ClientAddr() netip.Addr { return ex.b.ClientAddr() }

// Arrived is when the gateway began the request: the time to count it at.
func (ex *Exchange) Arrived() time.Time { return ex.b.Arrived() }

// PeerCertificates are the client's certificate chain, verified by the
// TLS listener against the CA of the host's certificate (leaf first); nil
// without one.
func (ex *Exchange) PeerCertificates() []*x509.Certificate { return ex.b.PeerCertificates() }

// ContentLength of the request body, -1 when unknown.
func (ex *Exchange) ContentLength() int64 { return ex.b.ContentLength() }

// LimitBody makes the backend's read of the body fail past max bytes; the
// engine then answers 413.
func (ex *Exchange) LimitBody(max int64) { ex.b.LimitBody(max) }

// RequestID is the X-Request-Id of this request.
func (ex *Exchange) RequestID() string { return ex.requestID }

// SetTraceID gives the request's trace id (32 hex digits), which gateway
// errors carry beside the request id. Engines call it after Reset; the
// string must stay valid until the request ends.
func (ex *Exchange) SetTraceID(id string) { ex.traceID = id }

// TraceID is the request's W3C trace id in hex, or "".
func (ex *Exchange) TraceID() string { return ex.traceID }

// Route identifies the matched route; nil before routing.
func (ex *Exchange) Route() *RouteInfo { return ex.route }

// PathParam returns a path parameter of the matched route, or "".
func (ex *Exchange) PathParam(name string) string {
	if ex.params == nil {
		return ""
	}
	return ex.params.Get(name)
}

// EachPathParam calls fn with each path parameter of the matched route,
// then with "*" and what the route's trailing wildcard covered, when it
// has one. The strings are the engine's: valid until the filter returns.
func (ex *Exchange) EachPathParam(fn func(name, value string)) {
	if ex.params == nil {
		return
	}
	for i := 0; i < ex.params.Len(); i++ {
		fn(ex.params.Name(i), ex.params.Value(i))
	}
	if w, ok := ex.params.Wildcard(); ok {
		fn("*", w)
	}
}

// SetUpstreamHeader sets a header on the request sent to the backend.
func (ex *Exchange) SetUpstreamHeader(name, value string) { ex.b.SetUpstreamHeader(name, value) }

// DelUpstreamHeader removes a header from the request sent to the backend.
func (ex *Exchange) DelUpstreamHeader(name string) { ex.b.DelUpstreamHeader(name) }

// SetUpstreamPath replaces the path sent to the backend (query kept).
func (ex *Exchange) SetUpstreamPath(p string) { ex.upstreamPath = p }

// UpstreamPath is the path a plugin set, or "".
func (ex *Exchange) UpstreamPath() string { return ex.upstreamPath }

// BackendPath is the path the backend will get as things stand: the one a
// plugin set, else the route's (group prefix stripped, backend.path applied).
func (ex *Exchange) BackendPath() string {
	if ex.upstreamPath != "" {
		return ex.upstreamPath
	}
	return ex.b.BackendPath()
}

// SetUpstreamHost replaces the Host header the backend gets, whatever the
// upstream's pass_host says.
func (ex *Exchange) SetUpstreamHost(host string) { ex.upstreamHost = host }

// UpstreamHost is the Host a plugin set, or "".
func (ex *Exchange) UpstreamHost() string { return ex.upstreamHost }

// SetUpstreamQuery replaces the query string sent to the backend (raw,
// without '?'; "" drops it).
func (ex *Exchange) SetUpstreamQuery(raw string) { ex.upstreamQuery, ex.queryEdited = raw, true }

// UpstreamQuery is the query a plugin set; ok is false when none did.
func (ex *Exchange) UpstreamQuery() (raw string, ok bool) { return ex.upstreamQuery, ex.queryEdited }

// QueryForUpstream is the query the backend gets so far, without '?': an
// earlier filter's edit, else the client's. A filter that edits the query
// starts from it, so it keeps what earlier filters (a route's parameter
// mapping) did.
func (ex *Exchange) QueryForUpstream() string {
	if ex.queryEdited {
		return ex.upstreamQuery
	}
	return ex.b.RawQuery()
}

// SetConsumer records who an authentication plugin recognised.
func (ex *Exchange) SetConsumer(c Consumer) { ex.consumer, ex.hasConsumer = c, true }

// Consumer returns the recognised consumer, if any.
func (ex *Exchange) Consumer() (Consumer, bool) { return ex.consumer, ex.hasConsumer }

// ResponseStatus is the backend's status in response filters.
func (ex *Exchange) ResponseStatus() int { return ex.b.ResponseStatus() }

// ResponseHeader reads a response header.
func (ex *Exchange) ResponseHeader(name string) string { return ex.b.ResponseHeader(name) }

// SetResponseHeader sets a header of the answer to the client (also before
// a Reject, e.g. Retry-After).
func (ex *Exchange) SetResponseHeader(name, value string) { ex.b.SetResponseHeader(name, value) }

// SetResponseHeaderInt is SetResponseHeader with a decimal integer (a
// count, seconds): the fast engine writes it without allocating, where
// strconv's string would allocate on every request.
func (ex *Exchange) SetResponseHeaderInt(name string, v int64) { ex.b.SetResponseHeaderInt(name, v) }

// DelResponseHeader removes a header of the answer to the client.
func (ex *Exchange) DelResponseHeader(name string) { ex.b.DelResponseHeader(name) }

// Rejected reports whether Reject answered the request, and with which status.
func (ex *Exchange) Rejected() (bool, int) { return ex.rejected, ex.rejectStatus }

// RejectCode is the error code Reject answered with, or "".
func (ex *Exchange) RejectCode() string { return ex.rejectCode }

// Reject answers the request with a gateway error:
// {"error":{"code":..,"message":..},"request_id":"..","trace_id":".."} as
// application/json (trace_id when the engine traces).
// It is the only writer of gateway errors; only the first call writes.
func (ex *Exchange) Reject(status int, code, message string) {
	if ex.answered {
		return
	}
	ex.answered = true
	ex.rejected, ex.rejectStatus, ex.rejectCode = true, status, code
	ex.errBuf = AppendError(ex.errBuf[:0], code, message, ex.requestID, ex.traceID)
	ex.b.WriteError(status, ex.errBuf)
}

// Respond answers the request itself with status, the response headers
// set so far and body (mock backends, CORS preflight); the backend is not
// called. Only the first Respond or Reject writes.
func (ex *Exchange) Respond(status int, body []byte) {
	if ex.answered {
		return
	}
	ex.answered = true
	ex.b.WriteResponse(status, body)
}

// SetNote records what a filter found wrong without changing the answer
// (request-validation's response check); the access log's record of the
// call carries it as its error detail when nothing else went wrong. The
// string must stay valid until the request ends (a constant).
func (ex *Exchange) SetNote(s string) { ex.note = s }

// Note is what SetNote recorded, or "".
func (ex *Exchange) Note() string { return ex.note }

// Answered reports whether Respond or Reject wrote the answer.
func (ex *Exchange) Answered() bool { return ex.answered }

// AppendError appends the JSON gateway error body to dst. Engines use it for
// the few errors they answer before an Exchange exists.
func AppendError(dst []byte, code, message, requestID, traceID string) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = AppendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendJSONString(dst, message)
	dst = append(dst, `},"request_id":`...)
	dst = AppendJSONString(dst, requestID)
	if traceID != "" {
		dst = append(dst, `,"trace_id":`...)
		dst = AppendJSONString(dst, traceID)
	}
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString quotes s as a JSON string without allocating beyond
// dst; invalid UTF-8 becomes U+FFFD. The gateway's hot-path writers of
// JSON (errors, generated data APIs) share it.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// cookieValue finds name in a Cookie header ("a=1; b=2") without
// allocating; "" when absent.
func cookieValue(header, name string) string {
	for header != "" {
		var part string
		part, header = header, ""
		for i := 0; i < len(part); i++ {
			if part[i] == ';' {
				part, header = part[:i], part[i+1:]
				break
			}
		}
		part = trimSpace(part)
		if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
			v := part[len(name)+1:]
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

func trimSpace(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
