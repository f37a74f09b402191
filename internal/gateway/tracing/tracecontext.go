package tracing

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// TraceID is a W3C trace id: 16 bytes, never all zero when valid.
type TraceID [16]byte

// SpanID is a W3C span (parent) id: 8 bytes, never all zero when valid.
type SpanID [8]byte

// IsValid reports whether t is not all zero (the spec's invalid value).
func (t TraceID) IsValid() bool { return t != TraceID{} }

// IsValid reports whether s is not all zero (the spec's invalid value).
func (s SpanID) IsValid() bool { return s != SpanID{} }

// AppendHex appends t as 32 lowercase hex digits, the form the access log,
// the error body and the traceparent header use.
func (t TraceID) AppendHex(dst []byte) []byte { return hex.AppendEncode(dst, t[:]) }

// AppendHex appends s as 16 lowercase hex digits.
func (s SpanID) AppendHex(dst []byte) []byte { return hex.AppendEncode(dst, s[:]) }

// String returns t in hex; it allocates, so the hot path uses AppendHex.
func (t TraceID) String() string { return string(t.AppendHex(nil)) }

// String returns s in hex; it allocates, so the hot path uses AppendHex.
func (s SpanID) String() string { return string(s.AppendHex(nil)) }

const hexDigits = "0123456789abcdef"

// hexValue maps a lowercase hex digit to its value and everything else
// (uppercase included: the spec allows lowercase only) to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < 16; i++ {
		t[hexDigits[i]] = byte(i)
	}
	return t
}()

// decodeHex fills dst from the 2*len(dst) lowercase hex digits in s; ok is
// false on any other character.
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		if hi > 0x0f || lo > 0x0f {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// traceparentLen is the length of a version-00 traceparent:
// "00-" + 32 + "-" + 16 + "-" + 2.
const traceparentLen = 55

// ParseTraceparent parses a W3C traceparent header value
// (version-traceid-parentid-flags). It follows the Trace Context spec
// strictly: lowercase hex only; version ff is invalid; version 00 is exactly
// 55 characters; a later version is parsed by the version-00 layout and may
// carry more fields after a '-'; an all-zero trace id or parent id is
// invalid. ok is false for anything else, and the caller then starts a new
// trace. sampled is the flags' sampled bit; other flag bits are ignored as
// the spec asks.
func ParseTraceparent(v string) (tid TraceID, parent SpanID, sampled bool, ok bool) {
	if len(v) < traceparentLen {
		return tid, parent, false, false
	}
	var version [1]byte
	if !decodeHex(version[:], v[:2]) || version[0] == 0xff {
		return tid, parent, false, false
	}
	if version[0] == 0 && len(v) != traceparentLen {
		return tid, parent, false, false
	}
	if len(v) > traceparentLen && v[traceparentLen] != '-' {
		return tid, parent, false, false
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return tid, parent, false, false
	}
	var flags [1]byte
	if !decodeHex(tid[:], v[3:35]) || !decodeHex(parent[:], v[36:52]) || !decodeHex(flags[:], v[53:55]) {
		return TraceID{}, SpanID{}, false, false
	}
	if !tid.IsValid() || !parent.IsValid() {
		return TraceID{}, SpanID{}, false, false
	}
	return tid, parent, flags[0]&0x01 != 0, true
}

// AppendTraceparent appends the version-00 traceparent value naming span
// (the caller's span, the receiver's parent) in trace tid.
func AppendTraceparent(dst []byte, tid TraceID, span SpanID, sampled bool) []byte {
	dst = append(dst, "00-"...)
	dst = tid.AppendHex(dst)
	dst = append(dst, '-')
	dst = span.AppendHex(dst)
	if sampled {
		return append(dst, "-01"...)
	}
	return append(dst, "-00"...)
}

// NewTraceID returns a random, valid trace id. math/rand/v2's global
// generator is lock-free and per-thread seeded from the system, which is
// the spec's requirement (random, not guessable from a counter) at a few
// nanoseconds; a cryptographic source is not needed for trace ids.
func NewTraceID() TraceID {
	var t TraceID
	for !t.IsValid() {
		binary.BigEndian.PutUint64(t[:8], rand.Uint64())
		binary.BigEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t
}

// NewSpanID returns a random, valid span id.
func NewSpanID() SpanID {
	var s SpanID
	for !s.IsValid() {
		binary.BigEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}
