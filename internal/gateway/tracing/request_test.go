package tracing

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestSampler(t *testing.T) {
	tests := []struct {
		ratio float64
		want  float64 // fraction of random trace ids sampled
	}{
		{0, 0}, {-1, 0}, {math.NaN(), 0}, {1, 1}, {2, 1}, {0.01, 0.01}, {0.5, 0.5},
	}
	const n = 200000
	for _, tt := range tests {
		s := NewSampler(tt.ratio)
		sampled := 0
		for range n {
			if s.Sample(NewTraceID()) {
				sampled++
			}
		}
		got := float64(sampled) / n
		// 5 standard deviations of a binomial at n draws.
		tolerance := 5 * math.Sqrt(tt.want*(1-tt.want)/n)
		if math.Abs(got-tt.want) > tolerance {
			t.Errorf("NewSampler(%v) sampled %.4f of trace ids, want %.4f ± %.4f", tt.ratio, got, tt.want, tolerance)
		}
	}
}

func TestSamplerDecidesOnTraceIDLowBits(t *testing.T) {
	s := NewSampler(0.25)
	var low, high TraceID
	binary.BigEndian.PutUint64(low[8:], uint64(24*(1<<63/100))<<1)
	binary.BigEndian.PutUint64(high[8:], uint64(26*(1<<63/100))<<1)
	if !s.Sample(low) || s.Sample(high) {
		t.Errorf("ratio 0.25: Sample(low) = %v, Sample(high) = %v; want true, false", s.Sample(low), s.Sample(high))
	}
	if got := NewSampler(0.25).Ratio(); math.Abs(got-0.25) > 1e-12 {
		t.Errorf("Ratio() = %v", got)
	}
}

const incomingSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestBeginContinuesIncomingTrace(t *testing.T) {
	tests := []struct {
		name        string
		incoming    string
		ratio       float64
		wantSampled bool
		wantTrace   string // "" = a new trace id
	}{
		{"sampled parent wins over ratio 0", incomingSampled, 0, true, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"unsampled parent wins over ratio 1", strings.TrimSuffix(incomingSampled, "1") + "0", 1, false, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"no header, ratio 1", "", 1, true, ""},
		{"no header, ratio 0", "", 0, false, ""},
		{"invalid header starts a new trace", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			r.Begin(tt.incoming, NewSampler(tt.ratio), 1)
			if r.Sampled() != tt.wantSampled {
				t.Fatalf("Sampled() = %v, want %v", r.Sampled(), tt.wantSampled)
			}
			tid := r.TraceID()
			if !tid.IsValid() || !r.SpanID().IsValid() {
				t.Fatalf("ids not valid: %s %s", tid, r.SpanID())
			}
			if tt.wantTrace != "" && tid.String() != tt.wantTrace {
				t.Fatalf("trace id = %s, want %s", tid, tt.wantTrace)
			}
			if tt.wantTrace == "" && tid.String() == "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Fatalf("an invalid header's trace id was kept")
			}
			if got := string(r.AppendTraceID(nil)); got != tid.String() {
				t.Fatalf("AppendTraceID = %s, want %s", got, tid)
			}

			// What goes upstream continues the same trace with the same
			// decision, and never names the client's span as parent.
			up := string(r.UpstreamTraceparent(nil))
			utid, uparent, usampled, ok := ParseTraceparent(up)
			if !ok || utid != tid || usampled != tt.wantSampled {
				t.Fatalf("upstream traceparent %q: trace %s sampled %v ok %v", up, utid, usampled, ok)
			}
			if uparent.String() == "00f067aa0ba902b7" {
				t.Fatalf("upstream traceparent %q names the client's span as parent", up)
			}
			if tt.wantSampled && uparent == r.SpanID() {
				t.Fatalf("sampled: upstream parent is the server span, want the upstream span")
			}
			if !tt.wantSampled && uparent != r.SpanID() {
				t.Fatalf("not sampled: upstream parent %s, want the gateway span %s", uparent, r.SpanID())
			}
		})
	}
}

func TestPhasesAndUpstreamRecordedOnlyWhenSampled(t *testing.T) {
	var r Request
	r.Begin("", NewSampler(0), 1)
	if i := r.PhaseStart("key-auth"); i != -1 {
		t.Fatalf("unsampled PhaseStart = %d, want -1", i)
	}
	r.UpstreamStart("10.0.0.1:80")
	r.UpstreamEnd(200, "")
	if r.phaseCount != 0 || r.upstream.attempts != 0 {
		t.Fatalf("unsampled request recorded phases %d, upstream calls %d", r.phaseCount, r.upstream.attempts)
	}

	r.Reset()
	r.Begin("", NewSampler(1), 1)
	for i := range MaxPhases {
		if got := r.PhaseStart("p"); got != i {
			t.Fatalf("PhaseStart #%d = %d", i, got)
		}
		r.PhaseEnd(i)
	}
	if got := r.PhaseStart("one too many"); got != -1 {
		t.Fatalf("PhaseStart beyond MaxPhases = %d, want -1", got)
	}
	r.PhaseEnd(-1)
	r.PhaseEnd(MaxPhases)
	r.UpstreamStart("10.0.0.1:80")
	r.UpstreamEnd(502, "connect")
	r.UpstreamStart("10.0.0.2:80")
	r.UpstreamEnd(200, "")
	if u := r.upstream; u.attempts != 2 || u.node != "10.0.0.2:80" || u.status != 200 || u.err != "" || u.end == 0 {
		t.Fatalf("after a retry the upstream span is %+v", u)
	}
	r.Reset()
	if r != (Request{}) {
		t.Fatalf("Reset left %+v", r)
	}
}

// unsampledRequest is what the engine does for one request that is not
// sampled; Export of an unsampled request returns before touching e.
func unsampledRequest(r *Request, e *Exporter, incoming string, sampler Sampler, buf []byte) []byte {
	r.Begin(incoming, sampler, 1)
	r.Method, r.Path, r.Route = "GET", "/anything", "anything"
	i := r.PhaseStart("key-auth")
	r.PhaseEnd(i)
	i = r.PhaseStart("limit-count")
	r.PhaseEnd(i)
	buf = r.UpstreamTraceparent(buf[:0])
	r.UpstreamStart("127.0.0.1:8080")
	r.UpstreamEnd(200, "")
	buf = r.AppendTraceID(buf[:0])
	r.End(200, 2)
	e.Export(r)
	r.Reset()
	return buf
}

func TestUnsampledAllocatesNothing(t *testing.T) {
	var r Request
	buf := make([]byte, 0, 64)
	var e *Exporter // never reached for an unsampled request
	never := NewSampler(0)
	for _, incoming := range []string{"", strings.TrimSuffix(incomingSampled, "1") + "0", "garbage"} {
		allocs := testing.AllocsPerRun(1000, func() {
			buf = unsampledRequest(&r, e, incoming, never, buf)
		})
		if allocs != 0 {
			t.Errorf("incoming %q: an unsampled request allocated %v times", incoming, allocs)
		}
	}
}

func BenchmarkUnsampledRequest(b *testing.B) {
	var r Request
	buf := make([]byte, 0, 64)
	var e *Exporter // never reached for an unsampled request
	never := NewSampler(0)
	for _, bench := range []struct{ name, incoming string }{
		{"new trace", ""},
		{"continued trace", strings.TrimSuffix(incomingSampled, "1") + "0"},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				buf = unsampledRequest(&r, e, bench.incoming, never, buf)
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func TestNilExporterIgnoresSampledRequests(t *testing.T) {
	var r Request
	r.Begin("", NewSampler(1), 1)
	var e *Exporter // tracing without a collector
	e.Export(&r)
}
