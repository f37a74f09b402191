package accesslog

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/portico-gw/portico/internal/spec"
)

// AppendJSON appends r to dst as one JSON object (no newline) with the
// JSON names and omitempty rules of spec.CallRecord, and returns the
// extended buffer. It allocates nothing when dst has the capacity; the
// output decodes with encoding/json into an equal spec.CallRecord (invalid
// UTF-8 in strings becomes U+FFFD, as encoding/json writes it).
func AppendJSON(dst []byte, r *spec.CallRecord) []byte {
	var st encodeState
	return st.appendRecord(dst, r, "", nil)
}

// encodeState is what encoding keeps from one line to the next, so that
// a line allocates nothing once its buffers have grown: the redacted query
// is built in query before it is escaped, time keeps the text of the last
// second written, and where the fields that name the route.
type encodeState struct {
	query []byte
	time  timeText
	// cacheWhere keeps the naming fields' text in where: only for records
	// whose naming fields are immutable strings (see Logger.Log).
	cacheWhere bool
	where      whereText
}

// appendRecord is AppendJSON with what Log adds: instance names the gateway
// when r.Instance is empty, and red, when not nil, redacts r.Query.
func (st *encodeState) appendRecord(dst []byte, r *spec.CallRecord, instance string, red *Redactor) []byte {
	dst = append(dst, '{')
	if r.ID != 0 {
		dst = append(dst, `"id":`...)
		dst = strconv.AppendInt(dst, r.ID, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"time":"`...)
	dst = st.time.append(dst, r.Time)
	dst = append(dst, `","request_id":`...)
	dst = appendString(dst, r.RequestID)
	dst = appendOptString(dst, `,"trace_id":`, r.TraceID)
	if r.Instance != "" {
		instance = r.Instance
	}
	where := [whereFields]string{instance, r.Group, r.Project, r.Service, r.ServiceID, r.Version, r.Route}
	if st.cacheWhere {
		dst = st.where.append(dst, where)
	} else {
		dst = appendWhere(dst, &where)
	}
	dst = appendOptString(dst, `,"consumer":`, r.Consumer)
	dst = appendOptString(dst, `,"application":`, r.Application)
	dst = append(dst, `,"client":`...)
	dst = appendString(dst, r.Client)
	dst = append(dst, `,"method":`...)
	dst = appendString(dst, r.Method)
	dst = appendOptString(dst, `,"host":`, r.Host)
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, r.Path)
	if r.Query != "" {
		dst = append(dst, `,"query":`...)
		if red == nil {
			dst = appendString(dst, r.Query)
		} else {
			st.query = red.Append(st.query[:0], r.Query)
			dst = appendString(dst, unsafe.String(unsafe.SliceData(st.query), len(st.query)))
		}
	}
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = appendOptString(dst, `,"upstream":`, r.Upstream)
	if r.UpstreamStatus != 0 {
		dst = append(dst, `,"upstream_status":`...)
		dst = strconv.AppendInt(dst, int64(r.UpstreamStatus), 10)
	}
	dst = appendOptString(dst, `,"side":`, r.Side)
	dst = append(dst, `,"bytes_in":`...)
	dst = strconv.AppendInt(dst, r.BytesIn, 10)
	dst = append(dst, `,"bytes_out":`...)
	dst = strconv.AppendInt(dst, r.BytesOut, 10)
	dst = append(dst, `,"latency_ms":`...)
	dst = appendFloat(dst, r.LatencyMs)
	if r.UpstreamLatencyMs != 0 {
		dst = append(dst, `,"upstream_latency_ms":`...)
		dst = appendFloat(dst, r.UpstreamLatencyMs)
	}
	dst = appendOptString(dst, `,"error":`, r.Error)
	dst = appendOptString(dst, `,"error_detail":`, r.ErrorDetail)
	dst = appendOptString(dst, `,"request_body":`, r.RequestBody)
	dst = appendOptString(dst, `,"response_body":`, r.ResponseBody)
	if len(r.Steps) > 0 {
		dst = append(dst, `,"steps":[`...)
		for i := range r.Steps {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendStep(dst, &r.Steps[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendStep writes one step of a composite backend as encoding/json
// writes a spec.CallStep.
func appendStep(dst []byte, s *spec.CallStep) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, s.Name)
	dst = append(dst, `,"target":`...)
	dst = appendString(dst, s.Target)
	dst = appendOptString(dst, `,"method":`, s.Method)
	dst = appendOptString(dst, `,"path":`, s.Path)
	if s.Status != 0 {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(s.Status), 10)
	}
	dst = append(dst, `,"outcome":`...)
	dst = appendString(dst, s.Outcome)
	dst = appendOptString(dst, `,"error":`, s.Error)
	if s.Attempts != 0 {
		dst = append(dst, `,"attempts":`...)
		dst = strconv.AppendInt(dst, int64(s.Attempts), 10)
	}
	dst = append(dst, `,"start_ms":`...)
	dst = appendFloat(dst, s.StartMs)
	dst = append(dst, `,"latency_ms":`...)
	dst = appendFloat(dst, s.LatencyMs)
	return append(dst, '}')
}

// appendOptString writes `prefix"s"` unless s is empty (omitempty).
func appendOptString(dst []byte, prefix, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, prefix...)
	return appendString(dst, s)
}

// appendFloat writes f as a JSON number that decodes to the same float64:
// plain decimals in the usual range, exponent form for very small or large
// values (as encoding/json does), 0 for NaN and infinities, which JSON
// cannot express. Latencies are whole microseconds written in
// milliseconds, so most values take the fast path of at most three
// decimals, which is also their shortest form: below 1e9 a double's
// spacing is far under 0.001, so no shorter decimal maps to the same value.
func appendFloat(dst []byte, f float64) []byte {
	if f >= 0 && f < 1e9 {
		if u := uint64(math.Round(f * 1000)); float64(u)/1000 == f {
			dst = strconv.AppendUint(dst, u/1000, 10)
			frac := u % 1000
			if frac == 0 {
				return dst
			}
			digits := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
			n := len(digits)
			for digits[n-1] == '0' {
				n--
			}
			return append(dst, digits[:n]...)
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// timeText formats times as time.RFC3339Nano in UTC (what encoding/json
// writes for a UTC time), keeping the text of the last second it wrote:
// the lines of a busy gateway share their second, so most lines pay only
// for the fraction.
type timeText struct {
	sec    int64
	n      int      // length of prefix's text; 0 until first use
	prefix [32]byte // "2006-01-02T15:04:05" of sec
}

func (c *timeText) append(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != c.sec || c.n == 0 {
		c.sec = sec
		c.n = len(t.AppendFormat(c.prefix[:0], "2006-01-02T15:04:05"))
		if c.n > len(c.prefix) { // a year of more than 14 digits: no cache
			c.n = 0
			return t.AppendFormat(dst, time.RFC3339Nano)
		}
	}
	dst = append(dst, c.prefix[:c.n]...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// whereFields is how many fields name where a call was served: the
// instance, group, project, service, service id, version and route.
const whereFields = 7

// whereText keeps the JSON of the last route's naming fields. They are the
// same for every call of a route and come from the compiled route's own
// strings, so the same backing memory means the same text: checking that
// costs seven comparisons of pointers, where escaping the fields again
// costs a sixth of a line.
type whereText struct {
	keys [whereFields]string
	text []byte
}

func (c *whereText) append(dst []byte, f [whereFields]string) []byte {
	if c.text == nil || !samePointers(&c.keys, &f) {
		c.keys = f
		c.text = appendWhere(c.text[:0], &f)
	}
	return append(dst, c.text...)
}

func appendWhere(dst []byte, f *[whereFields]string) []byte {
	dst = appendOptString(dst, `,"instance":`, f[0])
	dst = append(dst, `,"group":`...)
	dst = appendString(dst, f[1])
	dst = appendOptString(dst, `,"project":`, f[2])
	dst = appendOptString(dst, `,"service":`, f[3])
	dst = appendOptString(dst, `,"service_id":`, f[4])
	dst = appendOptString(dst, `,"version":`, f[5])
	return appendOptString(dst, `,"route":`, f[6])
}

// samePointers reports whether a and b's strings are the same memory (and
// so the same text). Keeping a (when it differs, a is replaced) keeps the
// memory it points to alive, so a reused address cannot hold other text.
func samePointers(a, b *[whereFields]string) bool {
	for i := range a {
		if len(a[i]) != len(b[i]) || unsafe.StringData(a[i]) != unsafe.StringData(b[i]) {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// plainByte tells the bytes a JSON string holds as they are: printable
// ASCII but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// plainPrefix is the length of s's leading run of plain bytes. It tests
// eight bytes at a time (a word holds a byte below 0x20, a quote, a
// backslash or a byte of 0x80 or more when the classic "has a zero byte"
// tests say so; their rare false alarms only send the word to the byte
// loop), since log fields are mostly plain ASCII.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		if ((w-ones*0x20)|(quote-ones)&^quote|(backslash-ones)&^backslash|w)&highs != 0 {
			break
		}
	}
	for i < len(s) && plainByte[s[i]] {
		i++
	}
	return i
}

// appendString writes s as a quoted JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by \ufffd, and U+2028
// and U+2029 escaped so a line stays safe inside JavaScript. '<', '>' and
// '&' stay as they are: a log line is not HTML.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for {
		n := plainPrefix(s)
		dst = append(dst, s[:n]...)
		s = s[n:]
		if s == "" {
			return append(dst, '"')
		}
		if b := s[0]; b < utf8.RuneSelf {
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			s = s[1:]
			continue
		}
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
}
