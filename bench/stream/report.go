package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// refTarget is the row every ratio is taken against.
const refTarget = "nginx-stream"

// allTests names the per-run row that sums every test of the run.
const allTests = "all"

// sample is one test line of one run, with the CPU its invocation cost.
type sample struct {
	test         string
	rps          float64
	p50ms, p99ms float64
	requests     int64
	// proxyCPU, backendCPU: the invocation's CPU shared out over its lines
	// (a -t selection such as "ping" makes two lines of n requests each).
	proxyCPU, backendCPU time.Duration
	wall, others         time.Duration // the invocation's, shared likewise
	// othersOnProxyCPU: busy time of the proxy's CPU not the proxy's;
	// negative when the proxy is not pinned.
	othersOnProxyCPU time.Duration
}

// runResult is one target started fresh for one load in one round.
type runResult struct {
	round   int
	load    loadSpec
	target  string
	proxied bool // the target has a proxy process whose CPU is measured
	samples []sample
	rss     int64 // the proxy's resident memory after the run
	err     error
}

// metrics are one run's figures for one test (or for all of them).
type metrics struct {
	rps, p50ms, p99ms       float64
	cpuPerReq               float64 // µs of proxy CPU per request; NaN: no proxy
	backendPerReq           float64 // µs of redis-server CPU per request
	proxyCores, othersCores float64 // CPU time ÷ wall time
	othersOnProxyCPU        float64 // cores; NaN when not pinned
}

// perTest turns a run's samples into metrics by test, plus allTests: CPU
// summed over all requests, and rps as requests ÷ the time they took.
func (r runResult) perTest() map[string]metrics {
	out := map[string]metrics{}
	var req int64
	var cpu, back, wall, others, onProxy time.Duration
	var secs float64
	for _, s := range r.samples {
		m := metrics{rps: s.rps, p50ms: s.p50ms, p99ms: s.p99ms,
			cpuPerReq:     perReq(s.proxyCPU, s.requests),
			backendPerReq: perReq(s.backendCPU, s.requests),
			proxyCores:    cores(s.proxyCPU, s.wall), othersCores: cores(s.others, s.wall),
			othersOnProxyCPU: cores(s.othersOnProxyCPU, s.wall)}
		if !r.proxied {
			m.cpuPerReq, m.proxyCores = math.NaN(), math.NaN()
		}
		out[s.test] = m
		req += s.requests
		cpu, back, wall, others = cpu+s.proxyCPU, back+s.backendCPU, wall+s.wall, others+s.others
		onProxy += s.othersOnProxyCPU
		secs += float64(s.requests) / s.rps
	}
	if len(r.samples) > 1 {
		m := metrics{rps: float64(req) / secs, p50ms: math.NaN(), p99ms: math.NaN(),
			cpuPerReq: perReq(cpu, req), backendPerReq: perReq(back, req),
			proxyCores: cores(cpu, wall), othersCores: cores(others, wall), othersOnProxyCPU: cores(onProxy, wall)}
		if !r.proxied {
			m.cpuPerReq, m.proxyCores = math.NaN(), math.NaN()
		}
		out[allTests] = m
	}
	return out
}

func perReq(d time.Duration, n int64) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return float64(d.Microseconds()) / float64(n)
}

func cores(d, wall time.Duration) float64 {
	if wall <= 0 || d < 0 {
		return math.NaN()
	}
	return d.Seconds() / wall.Seconds()
}

// median of the values that are numbers; NaN when none is.
func median(v []float64) float64 {
	v = slices.DeleteFunc(slices.Clone(v), math.IsNaN)
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cell is the median of a target's figures for one load and test over the
// rounds, and of its ratios to the reference taken round by round (so a
// round the whole machine was slow in moves both sides of a ratio).
type cell struct {
	metrics
	cpuRatio, rpsRatio float64
	rounds             int
}

// summarize gathers the runs of one load: cells by target and test, the
// test names in the order they ran.
func summarize(runs []runResult, l loadSpec) (cells map[string]map[string]cell, tests []string) {
	byTarget := map[string][]map[string]metrics{} // target → rounds' metrics
	refByRound := map[int]map[string]metrics{}
	for _, r := range runs {
		if r.load != l || r.err != nil {
			continue
		}
		m := r.perTest()
		byTarget[r.target] = append(byTarget[r.target], m)
		if r.target == refTarget {
			refByRound[r.round] = m
		}
		for _, s := range r.samples {
			if !slices.Contains(tests, s.test) {
				tests = append(tests, s.test)
			}
		}
	}
	if len(tests) > 1 {
		tests = append(tests, allTests)
	}
	cells = map[string]map[string]cell{}
	for target := range byTarget {
		cells[target] = map[string]cell{}
		for _, test := range tests {
			var rps, p50, p99, cpu, back, pc, oc, op, cpuR, rpsR []float64
			n := 0
			for _, r := range runs {
				if r.load != l || r.err != nil || r.target != target {
					continue
				}
				m, ok := r.perTest()[test]
				if !ok {
					continue
				}
				n++
				rps, p50, p99 = append(rps, m.rps), append(p50, m.p50ms), append(p99, m.p99ms)
				cpu, back = append(cpu, m.cpuPerReq), append(back, m.backendPerReq)
				pc, oc, op = append(pc, m.proxyCores), append(oc, m.othersCores), append(op, m.othersOnProxyCPU)
				if ref, ok := refByRound[r.round][test]; ok {
					cpuR = append(cpuR, m.cpuPerReq/ref.cpuPerReq)
					rpsR = append(rpsR, m.rps/ref.rps)
				}
			}
			if n == 0 {
				continue
			}
			cells[target][test] = cell{metrics: metrics{rps: median(rps), p50ms: median(p50), p99ms: median(p99),
				cpuPerReq: median(cpu), backendPerReq: median(back), proxyCores: median(pc), othersCores: median(oc),
				othersOnProxyCPU: median(op)},
				cpuRatio: median(cpuR), rpsRatio: median(rpsR), rounds: n}
		}
	}
	return cells, tests
}

// writeReport prints one Markdown table per load (rows: target × test),
// then the proxies' memory, then what went wrong.
func writeReport(w io.Writer, runs []runResult, loads []loadSpec, targets []string, notes []string) {
	for _, l := range loads {
		cells, tests := summarize(runs, l)
		fmt.Fprintf(w, "\n### %s (medians of rounds; CPU = proxy process and children, utime+stime)\n\n", l)
		fmt.Fprintln(w, "| target | test | requests/s | p50 ms | p99 ms | proxy CPU µs/req | CPU / nginx-stream | rps / nginx-stream | proxy cores | redis-server µs/req | others' cores: all / proxy's CPU |")
		fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, t := range targets {
			for _, test := range tests {
				c, ok := cells[t][test]
				if !ok {
					continue
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, test,
					group(c.rps), fixed(c.p50ms, 3), fixed(c.p99ms, 3), fixed(c.cpuPerReq, 1),
					fixed(c.cpuRatio, 2), fixed(c.rpsRatio, 2), fixed(c.proxyCores, 2),
					fixed(c.backendPerReq, 1), fixed(c.othersCores, 2)+" / "+fixed(c.othersOnProxyCPU, 2))
			}
		}
	}
	fmt.Fprintln(w, "\n### Proxy resident memory after a run (VmRSS, MiB; nginx: master + worker)")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| target |")
	for _, l := range loads {
		fmt.Fprintf(w, " %s |", l)
	}
	fmt.Fprint(w, "\n| --- |")
	for range loads {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprintln(w)
	for _, t := range targets {
		if t == "direct" {
			continue
		}
		fmt.Fprintf(w, "| %s |", t)
		for _, l := range loads {
			var v []float64
			for _, r := range runs {
				if r.target == t && r.load == l && r.err == nil && r.rss > 0 {
					v = append(v, float64(r.rss)/(1<<20))
				}
			}
			fmt.Fprintf(w, " %s |", fixed(median(v), 1))
		}
		fmt.Fprintln(w)
	}
	for _, r := range runs {
		if r.err != nil {
			notes = append(notes, fmt.Sprintf("round %d, %s, %s: %v", r.round+1, r.load, r.target, r.err))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// fixed formats v with prec decimals, "–" when it is not a number.
func fixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// group formats a rate as a whole number with spaced thousands, as
// the other tables of docs/benchmark.md do ("39 620").
func group(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
