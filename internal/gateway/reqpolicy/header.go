package reqpolicy

// Reasons a request head is refused; each is the message of the answer,
// a 400 unless Rejection says otherwise.
const (
	ReasonObsFold       = "folded header lines (obs-fold) are not accepted"
	ReasonNoName        = "a header line has no name"
	ReasonBadName       = "a header name holds a character that is not allowed"
	ReasonBadValue      = "a header value holds a control character"
	ReasonCLAndTE       = "Content-Length and Transfer-Encoding together are not accepted"
	ReasonTwoCL         = "more than one Content-Length is not accepted"
	ReasonBadCL         = "the Content-Length is not a number"
	ReasonBadTE         = "a Transfer-Encoding other than chunked is not accepted"
	ReasonBadHost       = "the Host header is not a valid host[:port]"
	ReasonTwoHosts      = "more than one Host header is not accepted"
	ReasonBadVersion    = "the HTTP version is malformed or not 1.0 or 1.1"
	ReasonNoSuchVersion = "only HTTP/1.0 and HTTP/1.1 are served"
	ReasonChunkedHTTP10 = "Transfer-Encoding is not accepted in an HTTP/1.0 request"
	ReasonBadRequestURI = "the request line is malformed"
)

// TokenChars marks the bytes allowed in a header name (RFC 9110 tchar).
var TokenChars = func() (t [256]bool) {
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

// ValueChars marks the bytes allowed in a header value: visible ASCII,
// space, tab and obs-text; no other control byte and no DEL.
var ValueChars = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// ValidHost reports whether h is an acceptable Host header value:
// a DNS name or IPv4 address (letters, digits, '-', '.', '_'), or an IPv6
// literal in brackets, then an optional ":port" of at most 5 digits. An
// empty Host is accepted (RFC 9112 allows it when the target has no
// authority). Userinfo ('@'), paths, spaces and the like are refused: a
// backend or a log that parses the value as a URL would read another host
// into it.
func ValidHost[T string | []byte](h T) bool {
	if len(h) == 0 {
		return true
	}
	i := 0
	if h[0] == '[' {
		i = 1
		for i < len(h) && h[i] != ']' {
			c := h[i]
			if !(c == ':' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
			i++
		}
		if i == len(h) || i == 1 {
			return false
		}
		i++ // ']'
	} else {
		for i < len(h) && h[i] != ':' {
			c := h[i]
			if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
			i++
		}
		if i == 0 {
			return false
		}
	}
	if i == len(h) {
		return true
	}
	if h[i] != ':' {
		return false
	}
	port := h[i+1:]
	if len(port) == 0 || len(port) > 5 {
		return false
	}
	for i := range len(port) {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// ValidContentLength reports whether v (spaces around it trimmed by the
// caller) is a Content-Length: one or more digits, no sign, no list.
func ValidContentLength(v []byte) bool {
	if len(v) == 0 || len(v) > 18 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// HeadScan checks the header lines of one request head, line by line, and
// works out how its body is framed. Both engines feed it every line, so
// they refuse the same heads.
type HeadScan struct {
	// ContentLength is the declared body length, -1 without one.
	ContentLength int64
	// Chunked: the body is framed by Transfer-Encoding: chunked.
	Chunked bool

	sawCL, sawTE, sawHost bool
	reason                string
}

// Reset readies s for the next head.
func (s *HeadScan) Reset() { *s = HeadScan{ContentLength: -1} }

// Line checks one header line (without its CRLF) and returns its name and
// value (spaces around the value trimmed). A refused line sets the reason
// Done reports; the caller may stop at the first.
func (s *HeadScan) Line(line []byte) (name, value []byte, ok bool) {
	if s.reason != "" {
		return nil, nil, false
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return s.refuse(ReasonObsFold)
	}
	colon := -1
	for i, c := range line {
		if c == ':' {
			colon = i
			break
		}
	}
	if colon <= 0 {
		return s.refuse(ReasonNoName)
	}
	name, value = line[:colon], line[colon+1:]
	for _, c := range name {
		if !TokenChars[c] {
			return s.refuse(ReasonBadName)
		}
	}
	for _, c := range value {
		if !ValueChars[c] {
			return s.refuse(ReasonBadValue)
		}
	}
	value = TrimSpace(value)
	switch {
	case EqualFold(name, "Content-Length"):
		if s.sawCL {
			return s.refuse(ReasonTwoCL)
		}
		s.sawCL = true
		if !ValidContentLength(value) {
			return s.refuse(ReasonBadCL)
		}
		var n int64
		for _, c := range value {
			n = n*10 + int64(c-'0')
		}
		s.ContentLength = n
	case EqualFold(name, "Transfer-Encoding"):
		if s.sawTE || !EqualFold(value, "chunked") {
			return s.refuse(ReasonBadTE)
		}
		s.sawTE, s.Chunked = true, true
	case EqualFold(name, "Host"):
		if s.sawHost {
			return s.refuse(ReasonTwoHosts)
		}
		s.sawHost = true
		if !ValidHost(value) {
			return s.refuse(ReasonBadHost)
		}
	}
	return name, value, true
}

func (s *HeadScan) refuse(reason string) ([]byte, []byte, bool) {
	s.reason = reason
	return nil, nil, false
}

// Done reports why the head is refused, or "" when it is accepted.
func (s *HeadScan) Done() string {
	if s.reason == "" && s.sawCL && s.sawTE {
		s.reason = ReasonCLAndTE
	}
	return s.reason
}

// VersionReason checks a request's version: "" for HTTP/1.0 and HTTP/1.1,
// ReasonNoSuchVersion for a well-formed version of another major
// (HTTP/2.0 or HTTP/9.9 sent as text: 505, as net/http answers it), and
// ReasonBadVersion for anything else (400).
func VersionReason(proto []byte) string {
	switch {
	case string(proto) == "HTTP/1.1" || string(proto) == "HTTP/1.0":
		return ""
	case len(proto) == 8 && string(proto[:5]) == "HTTP/" && isDigit(proto[5]) && proto[6] == '.' && isDigit(proto[7]) && proto[5] != '1':
		return ReasonNoSuchVersion
	}
	return ReasonBadVersion
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Rejection is the status and error code of the answer refusing a head
// for reason.
func Rejection(reason string) (status int, code string) {
	if reason == ReasonNoSuchVersion {
		return 505, "http_version_not_supported"
	}
	return 400, "bad_request"
}

// EqualFold compares ASCII case-insensitively without allocating.
func EqualFold[T string | []byte](b T, s string) bool {
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

// TrimSpace drops optional whitespace (spaces and tabs) around b.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
