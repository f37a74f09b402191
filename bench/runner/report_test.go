package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// cpuSamples makes one c=50 sample per (target, round, CPU µs/req).
func cpuSamples(rows ...any) []sample {
	var out []sample
	for i := 0; i+2 < len(rows); i += 3 {
		out = append(out, sample{target: rows[i].(string), round: rows[i+1].(int), conns: 50, cpuPerReq: rows[i+2].(float64)})
	}
	return out
}

func TestCheckGoal(t *testing.T) {
	all := map[string]bool{"nginx": true, "refproxy": true, "portico-fast": true, "portico-fast-plugins": true, "portico-nethttp": true}
	fast := perfGoals[0]
	plugins := perfGoals[1]
	nethttp := perfGoals[2]
	if fast.target != "portico-fast" || plugins.target != "portico-fast-plugins" || nethttp.ref != "refproxy" {
		t.Fatalf("perfGoals changed order: %+v", perfGoals)
	}
	stretchy := goal{"portico-fast", "nginx", 1.25, 1.0, "a goal with a stretch", false, false}
	for _, tc := range []struct {
		name     string
		g        goal
		samples  []sample
		selected map[string]bool
		failures map[string]error
		ratio    float64 // NaN: none
		verdict  string  // prefix
	}{
		{name: "stretch met", g: stretchy, samples: cpuSamples("nginx", 0, 30.0, "portico-fast", 0, 27.0),
			ratio: 0.9, verdict: "met, stretch too"},
		{name: "met, stretch not", g: stretchy, samples: cpuSamples("nginx", 0, 30.0, "portico-fast", 0, 36.0),
			ratio: 1.2, verdict: "met (stretch ≤ 1.00× not)"},
		{name: "exactly the limit", g: plugins, samples: cpuSamples("nginx", 0, 20.0, "portico-fast-plugins", 0, 22.0),
			ratio: 1.1, verdict: "met"},
		{name: "not met", g: nethttp, samples: cpuSamples("refproxy", 0, 60.0, "portico-nethttp", 0, 66.0),
			ratio: 1.1, verdict: "NOT met (22 % over ≤ 0.90×)"},
		{name: "median of per-round ratios", g: nethttp,
			samples: cpuSamples("refproxy", 0, 100.0, "portico-nethttp", 0, 50.0, "refproxy", 1, 50.0, "portico-nethttp", 1, 50.0,
				"refproxy", 2, 100.0, "portico-nethttp", 2, 80.0),
			ratio: 0.8, verdict: "met"},
		{name: "nginx not installed", g: fast, samples: cpuSamples("portico-fast", 0, 30.0),
			failures: map[string]error{"nginx c=50": errSkip("nginx is not installed")},
			ratio:    math.NaN(), verdict: "not measured: nginx skipped (nginx is not installed)"},
		{name: "nginx failed", g: plugins, samples: cpuSamples("portico-fast-plugins", 0, 30.0),
			failures: map[string]error{"nginx c=50": errors.New("boom\nmore")},
			ratio:    math.NaN(), verdict: "not measured: nginx failed"},
		{name: "fast skipped", g: fast, samples: cpuSamples("nginx", 0, 30.0),
			failures: map[string]error{"portico-fast c=50": errSkip("no --engine flag in this portico: the fast engine cannot be selected")},
			ratio:    math.NaN(), verdict: "not measured: portico-fast skipped (no --engine flag"},
		{name: "reference not selected", g: nethttp, samples: cpuSamples("portico-nethttp", 0, 30.0),
			selected: map[string]bool{"portico-nethttp": true},
			ratio:    math.NaN(), verdict: "not measured: refproxy not in -targets"},
		{name: "no common round", g: fast, samples: cpuSamples("nginx", 0, 30.0, "portico-fast", 1, 30.0),
			ratio: math.NaN(), verdict: "not measured: no round with both"},
		{name: "other connection count only", g: fast,
			samples: []sample{{target: "nginx", conns: 200, cpuPerReq: 30}, {target: "portico-fast", conns: 200, cpuPerReq: 30}},
			ratio:   math.NaN(), verdict: "not measured: no round with both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := tc.selected
			if sel == nil {
				sel = all
			}
			got := checkGoal(tc.g, tc.samples, 50, sel, tc.failures)
			if math.IsNaN(tc.ratio) != math.IsNaN(got.ratio) || (!math.IsNaN(tc.ratio) && math.Abs(got.ratio-tc.ratio) > 1e-9) {
				t.Errorf("ratio = %v, want %v", got.ratio, tc.ratio)
			}
			if !strings.HasPrefix(got.verdict, tc.verdict) {
				t.Errorf("verdict = %q, want it to start with %q", got.verdict, tc.verdict)
			}
		})
	}
}

func TestFooterNotes(t *testing.T) {
	defaults := strings.Split(defaultTargets, ",")
	for _, tc := range []struct {
		name      string
		f         footer
		want      []string // substrings that must appear
		wantNot   []string
		wantCount int // -1: do not check
	}{
		{name: "everything there, engine flag",
			f:       footer{targets: defaults, nginx: true, haproxy: true, porticoUsable: true, engineFlag: true, plugins: benchPlugins, wrk: true, h2load: true},
			want:    []string{"* plugins on the route: key-auth", "ip-restriction", "request-size-limit", "--engine fast|nethttp"},
			wantNot: []string{"not installed", "not in -targets", "missing here"}, wantCount: -1},
		{name: "nginx and haproxy missing",
			f:         footer{targets: defaults, porticoUsable: true, plugins: benchPlugins},
			want:      []string{"nginx is not installed (apt-get install nginx-light)", "haproxy is not installed (apt-get install haproxy)", "no --engine flag yet"},
			wantCount: -1},
		{name: "all four plugins present",
			f: footer{targets: []string{"nginx", "haproxy", "refproxy", "portico-fast-plugins"}, nginx: true, haproxy: true, porticoUsable: true, engineFlag: true,
				plugins: []routePlugin{{name: "key-auth"}, {name: "limit-count"}, {name: "ip-restriction"}, {name: "canary"}}},
			want: []string{"* plugins on the route: key-auth"}, wantNot: []string{"missing here"}, wantCount: 2},
		{name: "portico unusable",
			f:    footer{targets: []string{"nginx", "haproxy", "refproxy", "portico-nethttp"}, nginx: true, haproxy: true},
			want: []string{"Portico rows: skipped, portico did not build"}, wantNot: []string{"--engine"}, wantCount: 1},
		{name: "TLS rows without wrk and h2load",
			f:    footer{targets: []string{"nginx", "haproxy", "refproxy", "nginx-https", "portico-h2"}, nginx: true, haproxy: true, porticoUsable: true, engineFlag: true},
			want: []string{"TLS rows: nginx offers what Portico does", "wrk is not installed", "h2load is not installed"}, wantCount: 4},
		{name: "TLS rows alone, nginx missing",
			f:    footer{targets: []string{"nginx-https", "portico-fast-https"}, porticoUsable: true, engineFlag: true, wrk: true},
			want: []string{"--engine fast|nethttp", "TLS rows:", "no nginx TLS rows"}, wantNot: []string{"not in -targets", "wrk is not"}, wantCount: 3},
		{name: "handshake rows need neither",
			f:    footer{targets: []string{"nginx", "haproxy", "refproxy", "nginx-handshake"}, nginx: true, haproxy: true},
			want: []string{"handshake: every connection a full handshake"}, wantNot: []string{"not installed"}, wantCount: 1},
		{name: "no plugin row, references deselected",
			f:    footer{targets: []string{"direct"}, nginx: true, haproxy: true, plugins: benchPlugins},
			want: []string{"nginx not in -targets", "haproxy not in -targets", "refproxy not in -targets"}, wantNot: []string{"plugins on the route", "Portico rows"}, wantCount: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notes := footerNotes(tc.f)
			text := strings.Join(notes, "\n")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("notes lack %q:\n%s", w, text)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(text, w) {
					t.Errorf("notes have %q:\n%s", w, text)
				}
			}
			if tc.wantCount >= 0 && len(notes) != tc.wantCount {
				t.Errorf("%d notes, want %d:\n%s", len(notes), tc.wantCount, text)
			}
		})
	}
}

func TestMissingGoalPlugins(t *testing.T) {
	for _, tc := range []struct {
		have []string
		want []string
	}{
		{nil, goalPlugins},
		{pluginNames(benchPlugins), nil},
		{[]string{"canary", "key-auth", "limit-count", "ip-restriction", "cors"}, nil},
	} {
		var ps []routePlugin
		for _, n := range tc.have {
			ps = append(ps, routePlugin{name: n})
		}
		if got := missingGoalPlugins(ps); !slices.Equal(got, tc.want) {
			t.Errorf("missingGoalPlugins(%v) = %v, want %v", tc.have, got, tc.want)
		}
	}
}

func TestRoutePlugins(t *testing.T) {
	if m, err := routePlugins(nil); m != nil || err != nil {
		t.Errorf("no plugins = %v %v, want nil (the plain route has no plugins key)", m, err)
	}
	m, err := routePlugins(benchPlugins)
	if err != nil || len(m) != len(benchPlugins)-1 || m["canary"] != nil { // the canary is no route plugin
		t.Fatalf("routePlugins = %v %v", m, err)
	}
	if _, err := routePlugins([]routePlugin{{name: "x"}, {name: "x"}}); err == nil {
		t.Error("a plugin listed twice was accepted")
	}
	if got := describePlugins(benchPlugins); !strings.Contains(got, `ip-restriction {"allow":["127.0.0.1"]}`) {
		t.Errorf("describePlugins = %s", got)
	}
}

func TestPrintTableGoals(t *testing.T) {
	cfg := config{rounds: 1, connections: []int{50}}
	for _, n := range []string{"nginx", "refproxy", "portico-nethttp", "portico-fast"} {
		tg, _ := targetByName(n)
		cfg.targets = append(cfg.targets, tg)
	}
	samples := cpuSamples("nginx", 0, 25.0, "refproxy", 0, 60.0, "portico-nethttp", 0, 60.0)
	failures := map[string]error{"portico-fast c=50": errSkip("no --engine flag in this portico: the fast engine cannot be selected")}
	var b bytes.Buffer
	printTable(&b, cfg, samples, failures)
	out := b.String()
	for _, want := range []string{"portico-fast / nginx", "not measured: portico-fast skipped", "portico-nethttp / refproxy", "1.00×", "NOT met", "skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fast + plugins") {
		t.Errorf("the plugins goal is printed without its row:\n%s", out)
	}
}

func TestTargets(t *testing.T) {
	valid := config{rounds: 1, duration: time.Second, loader: "auto", originMode: "raw", h2Streams: 10}
	c := valid
	if err := c.check("50", defaultTargets, ""); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range c.targets {
		names = append(names, tg.name)
	}
	if want := strings.Split(defaultTargets, ","); !slices.Equal(names, want) {
		t.Errorf("default targets = %v, want %v", names, want)
	}
	c = valid
	if err := c.check("50", "portico,portico-fast,nginx", ""); err != nil {
		t.Fatal(err)
	}
	if len(c.targets) != 2 || c.targets[0].name != "portico-fast" || !c.targets[0].portico {
		t.Errorf("portico alias: %+v", c.targets)
	}
	bad := valid
	if err := bad.check("50", "portico-slow", ""); err == nil || !strings.Contains(err.Error(), "portico-fast-plugins") {
		t.Errorf("unknown target: %v", err)
	}
	for _, tg := range allTargets {
		if got := strings.HasPrefix(tg.name, "portico"); got != tg.portico {
			t.Errorf("%s: portico = %v", tg.name, tg.portico)
		}
	}
}

func TestEngineSelection(t *testing.T) {
	for _, tc := range []struct {
		flag   bool
		engine string
		want   []string
		skip   bool
	}{
		{true, "fast", []string{"--engine", "fast"}, false},
		{true, "nethttp", []string{"--engine", "nethttp"}, false},
		{false, "nethttp", nil, false},
		{false, "fast", nil, true},
	} {
		got, err := porticoEngineArgs(tc.flag, tc.engine)
		var skip skipError
		if !slices.Equal(got, tc.want) || errors.As(err, &skip) != tc.skip || (err != nil && !tc.skip) {
			t.Errorf("porticoEngineArgs(%v, %s) = %v, %v", tc.flag, tc.engine, got, err)
		}
	}
}

func TestHelpHasFlag(t *testing.T) {
	const help = `Flags:
      --admin-addr string        admin API and console address (env PORTICO_ADMIN_ADDR) (default ":9180")
      --drain-timeout duration   how long SIGTERM waits (see --engine-x) for in-flight requests
  -e, --engine string            fast or nethttp (env PORTICO_ENGINE) (default "fast")
  -h, --help                     help for server
`
	for _, tc := range []struct {
		help, flag string
		want       bool
	}{
		{help, "engine", true},
		{help, "admin-addr", true},
		{help, "help", true},
		{help, "engine-x", false}, // only mentioned in a description
		{strings.Replace(help, "--engine string", "--engines string", 1), "engine", false},
		{"      --engine=fast   x\n", "engine", true},
		{"", "engine", false},
	} {
		if got := helpHasFlag(tc.help, tc.flag); got != tc.want {
			t.Errorf("helpHasFlag(--%s) = %v, want %v", tc.flag, got, tc.want)
		}
	}
}

func TestHaproxyConf(t *testing.T) {
	dir := t.TempDir()
	conf, err := writeHaproxyConf(dir, "127.0.0.1:1", "127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	path, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed")
	}
	if err := checkHaproxyConf(path, conf); err != nil {
		t.Error(err)
	}
}

func TestProbeSizeLimit(t *testing.T) {
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > sizeLimit {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(200)
	}))
	defer limited.Close()
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer open.Close()
	if err := probeSizeLimit(context.Background(), limited.Listener.Addr().String()); err != nil {
		t.Errorf("limited route: %v", err)
	}
	if err := probeSizeLimit(context.Background(), open.Listener.Addr().String()); err == nil {
		t.Error("a route without the limit passed the probe")
	}
}

func TestNewGetHeaders(t *testing.T) {
	req, err := newGet(context.Background(), "http://127.0.0.1:1/x", []string{"apikey: bench-key", "X-A:b"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Apikey") != "bench-key" || req.Header.Get("X-A") != "b" {
		t.Errorf("headers = %v", req.Header)
	}
	if _, err := newGet(context.Background(), "http://127.0.0.1:1/x", []string{"no colon"}); err == nil {
		t.Error("a header without a colon was accepted")
	}
	if err := loadgenMain("http://127.0.0.1:1/x", []string{"bad\r\nX: y"}, 1, time.Second); err == nil {
		t.Error("loadgen took a header with a line break")
	}
}
