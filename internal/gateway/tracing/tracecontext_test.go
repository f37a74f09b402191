package tracing

import (
	"strings"
	"testing"
)

func TestParseTraceparent(t *testing.T) {
	const (
		tidHex    = "4bf92f3577b34da6a3ce929d0e0e4736"
		parentHex = "00f067aa0ba902b7"
	)
	tests := []struct {
		name    string
		in      string
		ok      bool
		sampled bool
	}{
		{"spec example sampled", "00-" + tidHex + "-" + parentHex + "-01", true, true},
		{"not sampled", "00-" + tidHex + "-" + parentHex + "-00", true, false},
		{"unknown flags ignored, sampled bit read", "00-" + tidHex + "-" + parentHex + "-09", true, true},
		{"unknown flags without sampled bit", "00-" + tidHex + "-" + parentHex + "-02", true, false},
		{"future version, same length", "cc-" + tidHex + "-" + parentHex + "-01", true, true},
		{"future version with more fields", "cc-" + tidHex + "-" + parentHex + "-01-what-the-future-holds", true, true},
		{"future version, longer without dash", "cc-" + tidHex + "-" + parentHex + "-01x", false, false},
		{"version 00 longer", "00-" + tidHex + "-" + parentHex + "-01-extra", false, false},
		{"version ff", "ff-" + tidHex + "-" + parentHex + "-01", false, false},
		{"empty", "", false, false},
		{"short", "00-" + tidHex + "-" + parentHex + "-0", false, false},
		{"all-zero trace id", "00-00000000000000000000000000000000-" + parentHex + "-01", false, false},
		{"all-zero parent id", "00-" + tidHex + "-0000000000000000-01", false, false},
		{"uppercase trace id", "00-" + strings.ToUpper(tidHex) + "-" + parentHex + "-01", false, false},
		{"uppercase version", "0A-" + tidHex + "-" + parentHex + "-01", false, false},
		{"uppercase flags", "00-" + tidHex + "-" + parentHex + "-0A", false, false},
		{"non-hex in trace id", "00-" + tidHex[:31] + "g-" + parentHex + "-01", false, false},
		{"non-hex in parent id", "00-" + tidHex + "-" + parentHex[:15] + "z-01", false, false},
		{"non-hex version", "0x-" + tidHex + "-" + parentHex + "-01", false, false},
		{"wrong separator", "00_" + tidHex + "-" + parentHex + "-01", false, false},
		{"missing separator before flags", "00-" + tidHex + "-" + parentHex + "001", false, false},
		{"trace id one short", "00-" + tidHex[:31] + "-" + parentHex + "-01-", false, false},
		{"spaces around", " 00-" + tidHex + "-" + parentHex + "-01", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tid, parent, sampled, ok := ParseTraceparent(tt.in)
			if ok != tt.ok || sampled != tt.sampled {
				t.Fatalf("ParseTraceparent(%q) = sampled %v ok %v, want sampled %v ok %v", tt.in, sampled, ok, tt.sampled, tt.ok)
			}
			if !ok {
				if tid.IsValid() || parent.IsValid() {
					t.Fatalf("rejected value returned ids %s %s", tid, parent)
				}
				return
			}
			if tid.String() != tidHex || parent.String() != parentHex {
				t.Fatalf("ids = %s %s, want %s %s", tid, parent, tidHex, parentHex)
			}
		})
	}
}

func TestAppendTraceparent(t *testing.T) {
	tid := TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	span := SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	if got, want := string(AppendTraceparent(nil, tid, span, true)), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; got != want {
		t.Errorf("sampled = %s, want %s", got, want)
	}
	if got, want := string(AppendTraceparent([]byte("x"), tid, span, false)), "x00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"; got != want {
		t.Errorf("unsampled = %s, want %s", got, want)
	}
}

func TestNewIDsAreValidAndDiffer(t *testing.T) {
	seen := make(map[TraceID]bool)
	for range 1000 {
		tid := NewTraceID()
		if !tid.IsValid() || seen[tid] {
			t.Fatalf("NewTraceID returned %s (valid %v, repeated %v)", tid, tid.IsValid(), seen[tid])
		}
		seen[tid] = true
		if s := NewSpanID(); !s.IsValid() {
			t.Fatalf("NewSpanID returned %s", s)
		}
	}
}

func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tid, parent, sampled, ok := ParseTraceparent(v)
		if !ok {
			return
		}
		if !tid.IsValid() || !parent.IsValid() {
			t.Fatalf("accepted %q with an invalid id", v)
		}
		if !strings.HasPrefix(v, "00-") {
			return
		}
		// Re-formatting gives back the input, except flag bits other than
		// sampled, which are ignored on the way in and not invented on
		// the way out.
		got := string(AppendTraceparent(nil, tid, parent, sampled))
		want := v
		if flags := v[53:]; flags != "00" && flags != "01" {
			want = v[:53] + "00"
			if hexValue[v[54]]&1 == 1 {
				want = v[:53] + "01"
			}
		}
		if got != want {
			t.Fatalf("ParseTraceparent(%q) then AppendTraceparent = %q", v, got)
		}
	})
}
