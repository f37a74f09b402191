package main

import (
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const wrkOut = `Running 1s test @ http://127.0.0.1:18801/x
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   271.71us  332.84us   6.24ms   96.53%
    Req/Sec    27.96k     2.54k   30.83k    70.00%
  Latency Distribution
     50%  219.00us
     75%  283.00us
     90%  372.00us
     99%    1.66ms
  27763 requests in 1.00s, 5.93MB read
  Non-2xx or 3xx responses: 7
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  27707.11
Transfer/sec:      5.92MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 27707.11 || r.Requests != 27763 || r.Elapsed != time.Second {
		t.Errorf("rps %v requests %d elapsed %v", r.RPS, r.Requests, r.Elapsed)
	}
	if r.P50 != 219*time.Microsecond || r.P99 != 1660*time.Microsecond {
		t.Errorf("p50 %v p99 %v", r.P50, r.P99)
	}
	if r.Errors != 10 {
		t.Errorf("errors = %d, want 7 non-2xx + 3 socket errors", r.Errors)
	}
	if _, err := parseWrk(strings.Replace(wrkOut, "Latency Distribution", "", 1)[:300]); err == nil {
		t.Error("a cut output parsed")
	}
	slow := strings.Replace(wrkOut, "    1.66ms", "    2.00s", 1)
	if r, err := parseWrk(slow); err != nil || r.P99 != 2*time.Second {
		t.Errorf("p99 in seconds: %v %v", r.P99, err)
	}
}

func TestParseMetric(t *testing.T) {
	text := "# HELP go_memstats_mallocs_total x\n# TYPE go_memstats_mallocs_total counter\n" +
		"go_memstats_mallocs_total_other 5\ngo_memstats_mallocs_total 1.234567e+06\ngo_sched_gomaxprocs_threads 1\n"
	if v, ok := parseMetric(strings.NewReader(text), "go_memstats_mallocs_total"); !ok || v != 1234567 {
		t.Errorf("mallocs = %v %v", v, ok)
	}
	if v, ok := parseMetric(strings.NewReader(text), "go_sched_gomaxprocs_threads"); !ok || v != 1 {
		t.Errorf("gomaxprocs = %v %v", v, ok)
	}
	if _, ok := parseMetric(strings.NewReader(text), "absent"); ok {
		t.Error("found an absent metric")
	}
}

func TestMedianAndRatio(t *testing.T) {
	if m := median([]float64{3, math.NaN(), 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	if m := median(nil); !math.IsNaN(m) {
		t.Errorf("median of nothing = %v", m)
	}
	all := []sample{
		{target: "nginx", conns: 50, round: 0, rps: 100},
		{target: "nginx", conns: 50, round: 1, rps: 200},
		{target: "portico", conns: 50, round: 0, rps: 50},
		{target: "portico", conns: 50, round: 1, rps: 150},
	}
	got := ratio(all, filter(all, "portico", 50), "nginx", func(s sample) float64 { return s.rps })
	if got != 0.625 { // rounds: 0.5 and 0.75
		t.Errorf("ratio = %v, want 0.625", got)
	}
}

func TestRotate(t *testing.T) {
	ts := allTargets
	got := rotate(ts, 1)
	if got[0].name != ts[1].name || got[len(got)-1].name != ts[0].name {
		t.Errorf("rotate = %v", got)
	}
}

func TestNginxConf(t *testing.T) {
	dir := t.TempDir()
	conf, err := writeNginxConf(dir, "127.0.0.1:1", "127.0.0.1:2", nil, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	path, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	if err := checkNginxConf(path, dir, conf); err != nil {
		t.Error(err)
	}
}
