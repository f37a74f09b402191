package tracing

import (
	"encoding/binary"
	"math"
)

// Sampler decides whether a new trace (one the gateway starts) is sampled.
// It is a value of two words, read-only after NewSampler, so a gateway
// group's sampler is shared by every request without a lock.
//
// The decision is OpenTelemetry's TraceIDRatioBased: the trace id's low 63
// bits compared with ratio·2⁶³. Deciding on the trace id rather than on a
// fresh random number means every gateway sampling at the same ratio takes
// the same decision for the same trace id.
type Sampler struct {
	bound  uint64 // sampled when the trace id's low 63 bits are below it
	always bool
}

// NewSampler returns a sampler keeping the given fraction of new traces:
// 0 (or less, or NaN) never, 1 (or more) always.
func NewSampler(ratio float64) Sampler {
	switch {
	case ratio >= 1:
		return Sampler{always: true}
	case !(ratio > 0): // NaN included
		return Sampler{}
	}
	return Sampler{bound: uint64(ratio * (1 << 63))}
}

// Sample reports whether the trace tid is sampled.
func (s Sampler) Sample(tid TraceID) bool {
	if s.always {
		return true
	}
	return binary.BigEndian.Uint64(tid[8:])>>1 < s.bound
}

// Ratio is the fraction NewSampler was given (clamped to [0, 1]), for
// logs and metrics.
func (s Sampler) Ratio() float64 {
	if s.always {
		return 1
	}
	return float64(s.bound) / math.Exp2(63)
}
