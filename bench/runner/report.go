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
func printFacts(cfg config, e *env, lds map[loadKind]loader, nproc int) {
	ld := lds[loadPlain]
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
	if e.cert != nil {
		fmt.Printf("tls         one self-signed ECDSA P-256 certificate for %s, the same for nginx and Portico (its group's default); clients do not verify it\n", benchCertName)
		for _, k := range []struct {
			kind loadKind
			what string
		}{{loadHTTPS, "https rows: keep-alive HTTP/1.1 over TLS,"}, {loadHandshake, "handshake rows: new connections,"}, {loadH2, "h2 rows: HTTP/2 over TLS,"}} {
			if l, ok := lds[k.kind]; ok {
				fmt.Printf("            %s %s\n", k.what, l.name())
			}
		}
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

// printTable prints, for each connection count, the table of the plain
// rows and the table of the TLS rows: medians over the rounds, and ratios
// computed within each round (targets of one round ran minutes apart at
// most) then their median; under them, the performance targets beside the
// measured ratios.
func printTable(w io.Writer, cfg config, samples []sample, failures map[string]error) {
	selected := map[string]bool{}
	var plain, tlsRows []target
	for _, t := range cfg.targets {
		selected[t.name] = true
		if t.load == loadPlain || t.load == loadTwoCores {
			plain = append(plain, t)
		} else {
			tlsRows = append(tlsRows, t)
		}
	}
	for _, c := range cfg.connections {
		if len(plain) > 0 {
			printPlainTable(w, cfg.rounds, c, plain, samples, failures)
			printConnsTable(w, c, plain, samples)
		}
		if len(tlsRows) > 0 {
			printTLSTable(w, cfg.rounds, c, tlsRows, samples, failures)
		}
		if goals := slices.DeleteFunc(slices.Clone(perfGoals), func(g goal) bool { return !selected[g.target] }); len(goals) > 0 {
			fmt.Fprintf(w, "performance goals, c=%d (CPU µs/req of the proxy process unless the goal is on a rate; median of the per-round ratios):\n", c)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, g := range goals {
				r := checkGoal(g, samples, c, selected, failures)
				if g.figure && !strings.HasPrefix(r.verdict, "not measured") {
					r.verdict = "a figure, not a goal"
				}
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
	if len(tlsRows) > 0 {
		fmt.Fprintln(w, "TLS table: a unit is what its load column says (a handshake: a new connection, its full handshake, one request, the close),")
		fmt.Fprintln(w, "ratios are to the nginx row of the same load; proxy cores: the proxy's CPU time over the run's wall time (near 1.00")
		fmt.Fprintln(w, "its core was the limit; well under, the load generator or the latency was, and the rate says little: compare CPU per unit).")
	}
}

// printPlainTable is the table of the plain HTTP/1.1 rows at c connections.
func printPlainTable(w io.Writer, rounds, c int, rows []target, samples []sample, failures map[string]error) {
	fmt.Fprintf(w, "c=%d, medians of %d round(s)\n", c, rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trps\tp50\tp99\tCPU µs/req\tallocs/req\torigin µs/req\tothers (cores)\trps/nginx\trps/ref\tCPU/nginx\tCPU/ref\terrors\t")
	for _, t := range rows {
		label := rowLabel(t.name)
		mine := filter(samples, t.name, c)
		if len(mine) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t\n", label, missingNote(failures[sampleKey(t.name, c)]))
			continue
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
			sumErrors(mine))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// loadUnit names a TLS row's unit in its load column.
var loadUnit = map[loadKind]string{loadHTTPS: "https req", loadHandshake: "handshake", loadH2: "h2 req"}

// printTLSTable is the table of the TLS rows at c connections (streams
// per connection for the h2 rows in the facts above), each row's ratios
// to its nginx row of the same load.
func printTLSTable(w io.Writer, rounds, c int, rows []target, samples []sample, failures map[string]error) {
	fmt.Fprintf(w, "c=%d over TLS (one ECDSA P-256 certificate for nginx and Portico), medians of %d round(s)\n", c, rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tload\trate/s\tp50\tp99\tCPU µs/unit\tallocs/unit\tproxy cores\torigin µs/unit\tothers (cores)\trate/nginx\tCPU/nginx\terrors\t")
	for _, t := range rows {
		mine := filter(samples, t.name, c)
		if len(mine) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t\n", t.name, loadUnit[t.load], missingNote(failures[sampleKey(t.name, c)]))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%.2f\t%s\t%s\t%d\t\n",
			t.name, loadUnit[t.load],
			median(field(mine, func(s sample) float64 { return s.rps })),
			fmtDur(time.Duration(median(field(mine, func(s sample) float64 { return float64(s.p50) })))),
			fmtDur(time.Duration(median(field(mine, func(s sample) float64 { return float64(s.p99) })))),
			fmtFloat(median(field(mine, func(s sample) float64 { return s.cpuPerReq })), 1),
			fmtFloat(median(field(mine, func(s sample) float64 { return s.allocsPerReq })), 1),
			median(field(mine, func(s sample) float64 { return s.proxyCores })),
			median(field(mine, func(s sample) float64 { return s.originPerReq })),
			median(field(mine, func(s sample) float64 { return s.others })),
			fmtFloat(ratio(samples, mine, t.ref, func(s sample) float64 { return s.rps }), 2),
			fmtFloat(ratio(samples, mine, t.ref, func(s sample) float64 { return s.cpuPerReq }), 2),
			sumErrors(mine))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func sumErrors(ss []sample) int64 {
	var n int64
	for _, s := range ss {
		n += s.errors
	}
	return n
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

// goal is one of the performance goals: target's CPU per request at most
// limit times ref's (stretch: a better figure also asked for), or with
// rate, target's rate at least limit times ref's.
type goal struct {
	target, ref    string
	limit, stretch float64
	text           string
	rate           bool
	// figure: a ratio printed beside the goals for comparison, with no
	// limit to meet.
	figure bool
}

// perfGoals are the performance goals, all on CPU µs per request.
var perfGoals = []goal{
	{"portico-fast", "nginx", 1.0, 0, "fast plain ≤ 1.0× nginx", false, false},
	{"portico-fast-plugins", "nginx", 1.1, 0, "fast + plugins ≤ 1.1× nginx plain", false, false},
	{"portico-nethttp", "refproxy", 0.9, 0, "nethttp ≤ 0.9× httputil reference", false, false},
	{"portico-fast-2cores", "nginx-2cores", 1.0, 0, "fast on both cores ≤ 1.0× nginx with two workers", false, false},
	// The rate on two cores says little on a 2-core machine, where wrk and
	// the origin share them: the CPU per request staying flat is what
	// scaling with the cores needs.
	{"portico-fast-2cores", "portico-fast", 0, 0, "fast: CPU per request on both cores over one core (1.0: it scales with the cores)", false, true},
	{"nginx-2cores", "nginx", 0, 0, "nginx: CPU per request, two workers over one", false, true},
	{"portico-fast-canary", "portico-fast", 1.05, 0, "fast + 50 % canary ≤ 1.05× fast plain", false, false},
	{"portico-fast-policies", "portico-fast", 1.11, 0, "fast + key-auth + limit-count + ip-restriction ≤ 1.11× fast plain CPU, i.e. ≥ 0.9× its rps", false, false},
	{"portico-fast-leastconn", "portico-fast", 1.05, 0, "least_conn ≤ 1.05× fast plain (round robin)", false, false},
	{"portico-fast-chash", "portico-fast", 1.05, 0, "chash by header ≤ 1.05× fast plain (round robin)", false, false},
	{"portico-fast-ewma", "portico-fast", 1.05, 0, "ewma ≤ 1.05× fast plain (round robin)", false, false},
	{"portico-fast-checked", "portico-fast", 1.05, 0, "active and passive health checks ≤ 1.05× fast plain", false, false},
	{"portico-fast-accesslog", "portico-fast", 1.05, 0, "access log to a file ≤ 1.05× fast plain", false, false},
	{"portico-fast-accesslog", "nginx-accesslog", 1.25, 0, "access log to a file ≤ 1.25× nginx writing the same JSON lines", false, false},
	{"portico-fast-tracing", "portico-fast", 1.03, 0, "tracing, 1 % of requests sampled and exported over OTLP/HTTP, ≤ 1.03× fast plain", false, false},
	{"portico-fast-composite", "portico-fast", 0, 0, "a composite of two parallel in-process calls, per proxied request (a client's two sequential ones: 2.00×)", false, true},
	{"portico-fast-https", "nginx-https", 1.3, 0, "HTTPS keep-alive: fast ≤ 1.3× nginx's CPU µs/req", false, false},
	{"portico-fast-handshake", "nginx-handshake", 0.8, 0, "new full TLS handshakes/s ≥ 0.8× nginx's", true, false},
}

// saturated is how busy (cores) a proxy must have been for its rate to be
// its own limit rather than the load generator's.
const saturated = 0.9

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
	if g.rate {
		return checkRateGoal(g, samples, conns)
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

// checkRateGoal checks a goal on the rate: met at limit× ref's or more.
// A rate is a proxy's own only when its core was busy; when either
// proxy's was not (the load generator, sharing its core with the origin,
// was the limit), the goal is judged on what each would do on a full
// core, the inverse of the CPU per unit, and the verdict says so.
func checkRateGoal(g goal, samples []sample, conns int) goalResult {
	mine := filter(samples, g.target, conns)
	r := ratio(samples, mine, g.ref, func(s sample) float64 { return s.rps })
	if math.IsNaN(r) {
		return goalResult{r, "not measured: no round with both " + g.target + " and " + g.ref}
	}
	verdict := func(r float64) string {
		if r >= g.limit {
			return "met"
		}
		return fmt.Sprintf("NOT met (%.0f %% under ≥ %.2f×)", (1-r/g.limit)*100, g.limit)
	}
	busy := median(field(mine, func(s sample) float64 { return s.proxyCores }))
	refBusy := median(field(filter(samples, g.ref, conns), func(s sample) float64 { return s.proxyCores }))
	if busy >= saturated && refBusy >= saturated {
		return goalResult{r, verdict(r)}
	}
	cpu := ratio(samples, mine, g.ref, func(s sample) float64 { return s.cpuPerReq })
	if math.IsNaN(cpu) || cpu <= 0 {
		return goalResult{r, fmt.Sprintf("not measured: proxies not saturated (%.2f / %.2f cores) and no CPU per unit", busy, refBusy)}
	}
	capacity := 1 / cpu
	return goalResult{capacity, fmt.Sprintf("%s on a full core (1 / CPU per unit %.2f×); measured rates %.2f×, the load generator's: proxies at %.2f / %.2f cores",
		verdict(capacity), cpu, r, busy, refBusy)}
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
	wrk, h2load   bool // the TLS rows' loads are installed
}

func footerFacts(cfg config, e *env, lds map[loadKind]loader) footer {
	_, wrk := lds[loadHTTPS]
	_, h2load := lds[loadH2]
	f := footer{nginx: e.nginx != "", haproxy: e.haproxy != "", porticoUsable: e.bins["portico"] != "" && e.buildErrs["portico"] == nil,
		engineFlag: e.engineFlag, plugins: benchPlugins, wrk: wrk, h2load: h2load}
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
	plainSel := slices.ContainsFunc(f.targets, func(n string) bool { t, ok := targetByName(n); return ok && t.load == loadPlain })
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
			if plainSel { // a run of TLS rows alone misses no plain reference
				notes = append(notes, fmt.Sprintf("%s not in -targets: %s.", ref.name, ref.what))
			}
		case !ref.installed:
			notes = append(notes, fmt.Sprintf("%s is not installed (%s): %s.", ref.name, ref.install, ref.what))
		}
	}
	if !has("refproxy") && plainSel {
		notes = append(notes, "refproxy not in -targets: no ratios to the httputil reference, the nethttp target unchecked.")
	}
	return append(notes, tlsNotes(f)...)
}

// tlsNotes are the footer's notes on the TLS rows: what each load does,
// and which tool is missing for which rows.
func tlsNotes(f footer) []string {
	var https, hs, h2 bool
	for _, n := range f.targets {
		if t, ok := targetByName(n); ok {
			https = https || t.load == loadHTTPS
			hs = hs || t.load == loadHandshake
			h2 = h2 || t.load == loadH2
		}
	}
	if !https && !hs && !h2 {
		return nil
	}
	notes := []string{"TLS rows: nginx offers what Portico does (TLS 1.2 and 1.3, AES-128-GCM first; 1.22's default lacks 1.3). " +
		"https: wrk keep-alive over TLS (ALPN none: Portico's fast engine); handshake: every connection a full handshake " +
		"(no session cache; X25519 only, as nginx's OpenSSL 3.0 has no ML-KEM), one request with Connection: close, the server's close; " +
		"h2: h2load over TLS with ALPN h2 (Portico's nethttp engine), no latency percentiles."}
	if !f.nginx {
		notes = append(notes, "nginx is not installed (apt-get install nginx-light): no nginx TLS rows, the TLS goals unchecked.")
	}
	if https && !f.wrk {
		notes = append(notes, "wrk is not installed (apt-get install wrk): no HTTPS keep-alive rows, their goal unchecked.")
	}
	if h2 && !f.h2load {
		notes = append(notes, "h2load is not installed (apt-get install nghttp2-client): no HTTP/2 rows.")
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
