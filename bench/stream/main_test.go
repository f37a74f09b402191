package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The output of redis-benchmark 7.0 with --csv, as captured on this
// machine, with a warning line before the header as some versions print.
const csv70 = `WARNING: Could not fetch server CONFIG
"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"PING_INLINE","49261.09","0.542","0.200","0.495","0.903","1.159","4.167"
"PING_MBULK","51413.88","0.498","0.200","0.495","0.551","0.663","3.551"
"SET","45977.01","0.598","0.192","0.511","1.079","1.599","7.343"
"GET","51282.05","0.499","0.216","0.495","0.551","0.719","2.559"
`

func TestParseBenchCSV(t *testing.T) {
	rows, err := parseBenchCSV([]byte(csv70))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4: %+v", len(rows), rows)
	}
	set := rows[2]
	if set.test != "SET" || set.rps != 45977.01 || set.p50ms != 0.511 || set.p99ms != 1.599 || set.avgms != 0.598 || set.maxms != 7.343 {
		t.Errorf("SET row = %+v", set)
	}
}

// redis-benchmark 6 printed only test and rps; the latencies are then 0.
func TestParseBenchCSVOldColumns(t *testing.T) {
	rows, err := parseBenchCSV([]byte("\"test\",\"rps\"\n\"GET\",\"1000.5\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].test != "GET" || rows[0].rps != 1000.5 || rows[0].p99ms != 0 {
		t.Errorf("rows = %+v", rows)
	}
}

func TestParseBenchCSVErrors(t *testing.T) {
	for name, out := range map[string]string{
		"empty":     "",
		"no header": "Could not connect to Redis at 127.0.0.1:1: Connection refused\n",
		"no rows":   "\"test\",\"rps\"\n",
		"no rps":    "\"test\",\"p50_latency_ms\"\n\"GET\",\"0.5\"\n",
		"bad rps":   "\"test\",\"rps\"\n\"GET\",\"fast\"\n",
		"zero rps":  "\"test\",\"rps\"\n\"GET\",\"0.00\"\n",
		"short row": "\"test\",\"rps\",\"p99_latency_ms\"\n\"GET\",\"100\"\n",
	} {
		if rows, err := parseBenchCSV([]byte(out)); err == nil {
			t.Errorf("%s: no error, rows %+v", name, rows)
		}
	}
}

func TestMedianAndFormat(t *testing.T) {
	if m := median([]float64{3, math.NaN(), 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of four = %v", m)
	}
	if m := median([]float64{math.NaN()}); !math.IsNaN(m) {
		t.Errorf("median of none = %v", m)
	}
	for v, want := range map[float64]string{39620: "39 620", 999.6: "1 000", 1234567: "1 234 567", 12: "12"} {
		if got := group(v); got != want {
			t.Errorf("group(%v) = %q, want %q", v, got, want)
		}
	}
	if fixed(math.NaN(), 1) != "–" {
		t.Error("NaN is not a dash")
	}
}

// Ratios are taken round by round against nginx-stream, then the median;
// the all row adds every test's requests and CPU.
func TestSummarize(t *testing.T) {
	l := loadSpec{conns: 50, pipeline: 1}
	mk := func(round int, target string, proxied bool, cpuUS int64, rps float64) runResult {
		r := runResult{round: round, load: l, target: target, proxied: proxied}
		for _, test := range []string{"SET", "GET"} {
			r.samples = append(r.samples, sample{test: test, rps: rps, requests: 1000,
				proxyCPU: time.Duration(cpuUS*1000) * time.Microsecond, wall: time.Second})
		}
		return r
	}
	runs := []runResult{
		mk(0, "nginx-stream", true, 20, 40000), mk(0, "portico-stream", true, 30, 30000), mk(0, "direct", false, 0, 80000),
		mk(1, "nginx-stream", true, 10, 20000), mk(1, "portico-stream", true, 20, 20000), mk(1, "direct", false, 0, 80000),
		{round: 2, load: l, target: "portico-stream", err: errSkip("failed")},
	}
	cells, tests := summarize(runs, l)
	if strings.Join(tests, ",") != "SET,GET,all" {
		t.Fatalf("tests = %v", tests)
	}
	p := cells["portico-stream"]["all"]
	if p.rounds != 2 || p.cpuPerReq != 25 || p.cpuRatio != 1.75 || p.rpsRatio != 0.875 {
		t.Errorf("portico all = %+v", p)
	}
	if d := cells["direct"]["GET"]; !math.IsNaN(d.cpuPerReq) || d.rpsRatio != 3 {
		t.Errorf("direct GET = %+v", d)
	}
	var b strings.Builder
	writeReport(&b, runs, []loadSpec{l}, []string{"direct", "nginx-stream", "portico-stream"}, nil)
	for _, want := range []string{"| portico-stream | all | 25 000 | – | – | 25.0 | 1.75 | 0.88 |", "round 3, c=50 -P 1, portico-stream: failed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
