package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printFacts prints what the numbers depend on: Go, the machine, the
// pinning and the tools.
func printFacts(cfg config, e *env, ld loader, nproc int) {
	fmt.Printf("Portico gateway benchmark (shared/BENCHMARKING.md)\n")
	fmt.Printf("go          %s %s/%s; runner GOMAXPROCS %d; nproc %d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), nproc)
	fmt.Printf("machine     %s; kernel %s\n", cpuModel(), readTrim("/proc/sys/kernel/osrelease"))
	if cfg.proxyCPU >= 0 {
		fmt.Printf("pinning     proxy under test on CPU %d (Go targets see GOMAXPROCS 1); origin, load generator and runner on CPU %d\n",
			cfg.proxyCPU, cfg.loadCPU)
	} else {
		fmt.Printf("pinning     none (taskset missing, fewer than 2 CPUs or -proxy-cpu -1): numbers are not comparable with pinned runs\n")
	}
	fmt.Printf("load        %s, c=%s, %v per run after %v warm-up, %d round(s), targets rotated each round, medians\n",
		ld.name(), joinInts(cfg.connections), cfg.duration, cfg.warmup, cfg.rounds)
	fmt.Printf("origin      %s, fixed 94-byte JSON body, keep-alive\n", cfg.originMode)
	if e.nginx != "" {
		fmt.Printf("nginx       %s (1 worker, upstream keepalive 1024)\n", nginxVersion(e.nginx))
	} else {
		fmt.Printf("nginx       not installed: no nginx row and no nginx ratios\n")
	}
	fmt.Println()
}

// printTable prints one table per connection count: medians over the
// rounds, and ratios computed within each round (targets of one round ran
// minutes apart at most) then their median.
func printTable(w io.Writer, cfg config, samples []sample) {
	for _, c := range cfg.connections {
		fmt.Fprintf(w, "c=%d, medians of %d round(s)\n", c, cfg.rounds)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\trps\tp50\tp99\tCPU µs/req\tallocs/req\torigin µs/req\tothers (cores)\trps/nginx\trps/ref\tCPU/nginx\tCPU/ref\terrors\t")
		for _, t := range cfg.targets {
			mine := filter(samples, t.name, c)
			if len(mine) == 0 {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t\n", t.name)
				continue
			}
			var errs int64
			for _, s := range mine {
				errs += s.errors
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%d\t\n",
				t.name,
				median(field(mine, func(s sample) float64 { return s.rps })),
				fmtDur(time.Duration(median(field(mine, func(s sample) float64 { return float64(s.p50) })))),
				fmtDur(time.Duration(median(field(mine, func(s sample) float64 { return float64(s.p99) })))),
				fmtFloat(median(field(mine, func(s sample) float64 { return s.cpuPerReq })), 1),
				fmtFloat(median(field(mine, func(s sample) float64 { return s.allocsPerReq })), 1),
				median(field(mine, func(s sample) float64 { return s.originPerReq })),
				median(field(mine, func(s sample) float64 { return s.others })),
				fmtFloat(ratio(samples, mine, "nginx", func(s sample) float64 { return s.rps }), 2),
				fmtFloat(ratio(samples, mine, "refproxy", func(s sample) float64 { return s.rps }), 2),
				fmtFloat(ratio(samples, mine, "nginx", func(s sample) float64 { return s.cpuPerReq }), 2),
				fmtFloat(ratio(samples, mine, "refproxy", func(s sample) float64 { return s.cpuPerReq }), 2),
				errs)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "CPU µs/req: user+system time of the proxy process (nginx: master + worker) per request wrk counted;")
	fmt.Fprintln(w, "others: cores busy with anything but the proxy, origin, load generator and runner (a noisy round shows here);")
	fmt.Fprintln(w, "ratios: target / reference within each round, median over rounds. Quote CPU per request and ratios, not a lone rps.")
}

func filter(samples []sample, target string, conns int) []sample {
	var out []sample
	for _, s := range samples {
		if s.target == target && s.conns == conns {
			out = append(out, s)
		}
	}
	return out
}

func field(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, 0, len(ss))
	for _, s := range ss {
		out = append(out, f(s))
	}
	return out
}

// ratio is the median over rounds of f(mine) / f(reference in that round).
func ratio(all, mine []sample, ref string, f func(sample) float64) float64 {
	var rs []float64
	for _, s := range mine {
		for _, r := range all {
			if r.target == ref && r.conns == s.conns && r.round == s.round {
				if d := f(r); d > 0 {
					rs = append(rs, f(s)/d)
				}
			}
		}
	}
	return median(rs)
}

// median of the values that are numbers; NaN when there are none.
func median(vs []float64) float64 {
	xs := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
