package accesslog

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

// fullRecord sets every field of spec.CallRecord (TestAppendJSONRoundTrip
// checks that it does, so a field added later must be encoded).
func fullRecord() spec.CallRecord {
	return spec.CallRecord{
		ID:                42,
		Time:              time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		RequestID:         "01HZY3K6M8",
		TraceID:           "4bf92f3577b34da6a3ce929d0e0e4736",
		Instance:          "gw-1",
		Group:             "default",
		Project:           "p_123",
		Service:           "orders",
		ServiceID:         "s_456",
		Version:           "v2",
		Route:             "get-order",
		Consumer:          "acme-app",
		Application:       "a_789",
		Client:            "203.0.113.7",
		Method:            "GET",
		Host:              "api.example.com",
		Path:              "/orders/12?x",
		Query:             "page=2&sort=desc",
		Status:            200,
		Upstream:          "10.0.0.5:8080",
		UpstreamStatus:    201,
		Side:              spec.SideCanary,
		BytesIn:           123,
		BytesOut:          45678,
		LatencyMs:         12.345,
		UpstreamLatencyMs: 10.5,
		Error:             "upstream_unavailable",
		ErrorDetail:       "connect",
		RequestBody:       `{"a":"<b>&\"quoted\"\n"}`,
		ResponseBody:      "ok\tdone \u2028 é 日本",
		Steps: []spec.CallStep{
			{Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200, Outcome: "ok",
				Attempts: 1, StartMs: 0.125, LatencyMs: 3.5},
			{Name: "orders", Target: "upstream", Outcome: "fallback", Error: "answered \"503\"\n", StartMs: 4, LatencyMs: 0},
		},
	}
}

func TestAppendJSONRoundTrip(t *testing.T) {
	in := fullRecord()
	v := reflect.ValueOf(in)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullRecord leaves %s zero: set it, and encode it in appendRecord", v.Type().Field(i).Name)
		}
	}
	line := AppendJSON(nil, &in)
	var out spec.CallRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-in +out):\n%s\nline: %s", diff, line)
	}
}

// TestAppendJSONMatchesEncodingJSON: byte for byte what encoding/json
// writes (without HTML escaping), omitempty included.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	full := fullRecord()
	minimal := spec.CallRecord{Time: time.Unix(0, 0).UTC(), Method: "GET", Path: "/", Status: 404}
	var zero spec.CallRecord
	odd := fullRecord()
	odd.Path = "/\x00\x1f\x7f\"\\\b\f\u2029"
	odd.Query = "q=\xff\xfe"
	odd.LatencyMs = 0.001
	odd.UpstreamLatencyMs = 123456789.125
	odd.BytesIn = -1
	odd.ID = math.MaxInt64
	odd.Time = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // no fraction
	for name, r := range map[string]spec.CallRecord{"full": full, "minimal": minimal, "zero": zero, "odd": odd} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		got := AppendJSON(nil, &r)
		if w := strings.TrimSuffix(want.String(), "\n"); string(got) != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func TestAppendJSONTimeInUTC(t *testing.T) {
	r := spec.CallRecord{Time: time.Date(2025, 6, 1, 12, 0, 0, 500, time.FixedZone("CEST", 2*3600))}
	got := AppendJSON(nil, &r)
	if !bytes.Contains(got, []byte(`"time":"2025-06-01T10:00:00.0000005Z"`)) {
		t.Errorf("time not written in UTC: %s", got)
	}
}

func TestAppendJSONFloats(t *testing.T) {
	for _, f := range []float64{0.001, 1.5, 12.345, 1e-9, 3e25, 123456.789012, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		r := spec.CallRecord{LatencyMs: f}
		var out spec.CallRecord
		if err := json.Unmarshal(AppendJSON(nil, &r), &out); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if out.LatencyMs != f {
			t.Errorf("latency %v came back as %v", f, out.LatencyMs)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r := spec.CallRecord{LatencyMs: f}
		if got := AppendJSON(nil, &r); !json.Valid(got) || !bytes.Contains(got, []byte(`"latency_ms":0`)) {
			t.Errorf("%v: %s", f, got)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"<a & b>", `"<a & b>"`},
		{"é日本🙂", `"é日本🙂"`},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\x7f", "\"\x7f\""},
	} {
		if got := string(appendString(nil, tc.in)); got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("req-1", "/path", "a=1&token=x", "body", "")
	f.Add("\x00\"\\", "/\u2028", "\xff", "{\"password\":1}", "\t")
	f.Fuzz(func(t *testing.T, requestID, path, query, body, errText string) {
		in := spec.CallRecord{
			Time: time.Unix(1700000000, 5).UTC(), RequestID: requestID, Path: path,
			Query: query, RequestBody: body, Error: errText, Method: "POST",
		}
		line := AppendJSON(nil, &in)
		if !json.Valid(line) {
			t.Fatalf("invalid JSON: %q", line)
		}
		var out spec.CallRecord
		if err := json.Unmarshal(line, &out); err != nil {
			t.Fatalf("decode %q: %v", line, err)
		}
		for _, p := range []struct{ name, in, out string }{
			{"request_id", requestID, out.RequestID},
			{"path", path, out.Path},
			{"query", query, out.Query},
			{"request_body", body, out.RequestBody},
			{"error", errText, out.Error},
		} {
			if want := replaceInvalidUTF8(p.in); p.out != want {
				t.Errorf("%s: %q came back as %q", p.name, want, p.out)
			}
		}
	})
}

// replaceInvalidUTF8 replaces each byte that is not part of valid UTF-8
// by U+FFFD, as the encoder does.
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func TestAppendJSONAllocatesNothing(t *testing.T) {
	r := fullRecord()
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = AppendJSON(buf[:0], &r)
	})
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times per call", allocs)
	}
	if !utf8.Valid(buf) {
		t.Fatal("output is not UTF-8")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := fullRecord()
	r.RequestBody, r.ResponseBody = "", ""
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &r)
	}
}
