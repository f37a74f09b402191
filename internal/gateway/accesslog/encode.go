package accesslog

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/spec"
)

// AppendJSON appends r to dst as one JSON object (no newline) with the
// JSON names and omitempty rules of spec.CallRecord, and returns the
// extended buffer. It allocates nothing when dst has the capacity; the
// output decodes with encoding/json into an equal spec.CallRecord (invalid
// UTF-8 in strings becomes U+FFFD, as encoding/json writes it).
func AppendJSON(dst []byte, r *spec.CallRecord) []byte {
	return appendRecord(dst, r, "", nil, nil)
}

// appendRecord is AppendJSON with what Log adds: instance names the gateway
// when r.Instance is empty, and red, when not nil, redacts r.Query. The
// redacted query is built in *scratch (reused from line to line, so it
// allocates nothing once grown) and then escaped into dst.
func appendRecord(dst []byte, r *spec.CallRecord, instance string, red *Redactor, scratch *[]byte) []byte {
	dst = append(dst, '{')
	if r.ID != 0 {
		dst = append(dst, `"id":`...)
		dst = strconv.AppendInt(dst, r.ID, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","request_id":`...)
	dst = appendString(dst, r.RequestID)
	dst = appendOptString(dst, `,"trace_id":`, r.TraceID)
	if r.Instance != "" {
		instance = r.Instance
	}
	dst = appendOptString(dst, `,"instance":`, instance)
	dst = append(dst, `,"group":`...)
	dst = appendString(dst, r.Group)
	dst = appendOptString(dst, `,"project":`, r.Project)
	dst = appendOptString(dst, `,"service":`, r.Service)
	dst = appendOptString(dst, `,"service_id":`, r.ServiceID)
	dst = appendOptString(dst, `,"version":`, r.Version)
	dst = appendOptString(dst, `,"route":`, r.Route)
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
			*scratch = red.Append((*scratch)[:0], r.Query)
			dst = appendString(dst, *scratch)
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
// cannot express.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a quoted JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by \ufffd, and U+2028
// and U+2029 escaped so a line stays safe inside JavaScript. '<', '>' and
// '&' stay as they are: a log line is not HTML.
func appendString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
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
			i++
			start = i
			continue
		}
		// copy accepts a string or a byte slice as its source, so one
		// generic body decodes both without converting (and allocating).
		var rb [utf8.UTFMax]byte
		n := copy(rb[:], s[i:])
		r, size := utf8.DecodeRune(rb[:n])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
