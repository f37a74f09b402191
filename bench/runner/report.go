package main

import (
	"errors"
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
	fmt.Printf("Portico gateway benchmark (method: docs/benchmark.md)\n")
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
	if e.haproxy != "" {
		fmt.Printf("haproxy     %s (nbthread 1, http-reuse always, keep-alive both ways, no logging)\n", haproxyVersion(e.haproxy))
	} else {
		fmt.Printf("haproxy     not installed: no haproxy row\n")
	}
	switch {
	case e.bins["portico"] == "":
		fmt.Printf("portico     not built\n")
	case e.engineFlag:
		fmt.Printf("portico     server --engine fast|nethttp (fast rows: --engine fast)\n")
	default:
		fmt.Printf("portico     no --engine flag in this build: portico-nethttp runs its only engine (net/http), fast rows skipped\n")
	}
	fmt.Println()
}

// printTable prints one table per connection count: medians over the
// rounds, and ratios computed within each round (targets of one round ran
// minutes apart at most) then their median; under each table, the performance
// targets beside the measured ratios.
func printTable(w io.Writer, cfg config, samples []sample, failures map[string]error) {
	selected := map[string]bool{}
	for _, t := range cfg.targets {
		selected[t.name] = true
	}
	for _, c := range cfg.connections {
		fmt.Fprintf(w, "c=%d, medians of %d round(s)\n", c, cfg.rounds)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\trps\tp50\tp99\tCPU µs/req\tallocs/req\torigin µs/req\tothers (cores)\trps/nginx\trps/ref\tCPU/nginx\tCPU/ref\terrors\t")
		for _, t := range cfg.targets {
			label := rowLabel(t.name)
			mine := filter(samples, t.name, c)
			if len(mine) == 0 {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t\n", label, missingNote(failures[sampleKey(t.name, c)]))
				continue
			}
			var errs int64
			for _, s := range mine {
				errs += s.errors
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%d\t\n",
				label,
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
		if goals := slices.DeleteFunc(slices.Clone(perfGoals), func(g goal) bool { return !selected[g.target] }); len(goals) > 0 {
			fmt.Fprintf(w, "performance goals, c=%d (CPU µs/req of the proxy process; median of the per-round ratios):\n", c)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, g := range goals {
				r := checkGoal(g, samples, c, selected, failures)
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", g.text, g.target+" / "+g.ref, fmtRatio(r.ratio), r.verdict)
			}
			tw.Flush()
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "CPU µs/req: user+system time of the proxy process (nginx: master + worker) per request wrk counted;")
	fmt.Fprintln(w, "allocs/req: heap objects the Go process allocated per request (Portico: go_memstats_mallocs_total on its status /metrics);")
	fmt.Fprintln(w, "others: cores busy with anything but the proxy, origin, load generator and runner (a noisy round shows here);")
	fmt.Fprintln(w, "ratios: target / reference within each round, median over rounds. Quote CPU per request and ratios, not a lone rps.")
}

// rowLabel marks the plugin rows; the footer's "*" note lists their
// plugins.
func rowLabel(name string) string {
	if strings.HasSuffix(name, "-plugins") {
		return name + "*"
	}
	return name
}

func sampleKey(target string, conns int) string { return fmt.Sprintf("%s c=%d", target, conns) }

// missingNote is the errors cell of a row without samples.
func missingNote(err error) string {
	var skip skipError
	switch {
	case err == nil:
		return "no sample"
	case errors.As(err, &skip):
		return "skipped"
	default:
		return "FAILED"
	}
}

// goal is one of the performance goals: target's CPU per request
// at most limit times ref's (stretch: a better figure also asked for).
type goal struct {
	target, ref    string
	limit, stretch float64
	text           string
}

// perfGoals are the performance goals, all on CPU µs per request.
var perfGoals = []goal{
	{"portico-fast", "nginx", 1.25, 1.0, "fast plain ≤ 1.25× nginx (stretch ≤ 1.0×)"},
	{"portico-fast-plugins", "nginx", 1.4, 0, "fast + plugins ≤ 1.4× nginx plain"},
	{"portico-nethttp", "refproxy", 0.9, 0, "nethttp ≤ 0.9× httputil reference"},
	{"portico-fast-canary", "portico-fast", 1.05, 0, "fast + 50 % canary ≤ 1.05× fast plain"},
	{"portico-fast-policies", "portico-fast", 1.11, 0, "fast + key-auth + limit-count + ip-restriction ≤ 1.11× fast plain CPU, i.e. ≥ 0.9× its rps"},
}

// goalResult is one goal checked against one connection count's samples.
type goalResult struct {
	ratio   float64 // NaN when it could not be measured
	verdict string
}

// checkGoal compares the measured CPU/req ratio with g, or says why there
// is none: a row not selected, skipped (with the reason), failed, or
// without a round in which both rows ran.
func checkGoal(g goal, samples []sample, conns int, selected map[string]bool, failures map[string]error) goalResult {
	for _, name := range []string{g.target, g.ref} {
		if !selected[name] {
			return goalResult{math.NaN(), "not measured: " + name + " not in -targets"}
		}
		if err, ok := failures[sampleKey(name, conns)]; ok {
			var skip skipError
			if errors.As(err, &skip) {
				return goalResult{math.NaN(), "not measured: " + name + " skipped (" + firstLines(err.Error(), 1) + ")"}
			}
			return goalResult{math.NaN(), "not measured: " + name + " failed"}
		}
	}
	r := ratio(samples, filter(samples, g.target, conns), g.ref, func(s sample) float64 { return s.cpuPerReq })
	switch {
	case math.IsNaN(r):
		return goalResult{r, "not measured: no round with both " + g.target + " and " + g.ref}
	case g.stretch > 0 && r <= g.stretch:
		return goalResult{r, fmt.Sprintf("met, stretch too (≤ %.2f×)", g.stretch)}
	case r <= g.limit:
		if g.stretch > 0 {
			return goalResult{r, fmt.Sprintf("met (stretch ≤ %.2f× not)", g.stretch)}
		}
		return goalResult{r, "met"}
	default:
		return goalResult{r, fmt.Sprintf("NOT met (%.0f %% over ≤ %.2f×)", (r/g.limit-1)*100, g.limit)}
	}
}

func fmtRatio(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r)
}

// footer is what the notes under the tables depend on.
type footer struct {
	targets       []string // selected rows
	nginx         bool     // installed
	haproxy       bool     // installed
	porticoUsable bool     // built, and `server --help` answered
	engineFlag    bool     // the built portico knows --engine
	plugins       []routePlugin
}

func footerFacts(cfg config, e *env) footer {
	f := footer{nginx: e.nginx != "", haproxy: e.haproxy != "", porticoUsable: e.bins["portico"] != "" && e.buildErrs["portico"] == nil,
		engineFlag: e.engineFlag, plugins: benchPlugins}
	for _, t := range cfg.targets {
		f.targets = append(f.targets, t.name)
	}
	return f
}

// footerNotes are the notes printed under the tables: the plugins of the
// plugin rows and which of the goal's are missing, which engine the
// Portico rows ran, and which references are missing.
func footerNotes(f footer) []string {
	has := func(name string) bool { return slices.Contains(f.targets, name) }
	var notes []string
	if slices.ContainsFunc(f.targets, func(n string) bool { return strings.HasSuffix(n, "-plugins") }) {
		notes = append(notes, "* plugins on the route: "+describePlugins(f.plugins)+".")
		if missing := missingGoalPlugins(f.plugins); len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("  The plugins row's goal is key-auth + limit-count (local) + ip-restriction + a 50 %% canary; "+
				"missing here: %s (%d of %d: no such plugin in the gateway yet), so the row carries fewer policies than the target assumes.",
				strings.Join(missing, ", "), len(missing), len(goalPlugins)))
		}
	}
	if slices.ContainsFunc(f.targets, func(n string) bool { return strings.HasPrefix(n, "portico-") }) {
		switch {
		case !f.porticoUsable:
			notes = append(notes, "Portico rows: skipped, portico did not build or its `server --help` failed (the reason is in the log above).")
		case f.engineFlag:
			notes = append(notes, "Portico rows: engine chosen with `portico server --engine fast|nethttp`.")
		default:
			notes = append(notes, "Portico rows: this portico has no --engine flag yet: portico-nethttp ran its only engine (net/http) without the flag; the fast rows were skipped.")
		}
	}
	for _, ref := range []struct {
		name, install string
		installed     bool
		what          string
	}{
		{"nginx", "apt-get install nginx-light", f.nginx, "no nginx row, no CPU/nginx or rps/nginx ratios, the fast engine's nginx targets unchecked"},
		{"haproxy", "apt-get install haproxy", f.haproxy, "no haproxy row"},
	} {
		switch {
		case !has(ref.name):
			notes = append(notes, fmt.Sprintf("%s not in -targets: %s.", ref.name, ref.what))
		case !ref.installed:
			notes = append(notes, fmt.Sprintf("%s is not installed (%s): %s.", ref.name, ref.install, ref.what))
		}
	}
	if !has("refproxy") {
		notes = append(notes, "refproxy not in -targets: no ratios to the httputil reference, the nethttp target unchecked.")
	}
	return notes
}

func printFooter(w io.Writer, f footer) {
	notes := footerNotes(f)
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
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
