package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// loadResult is what one load run measured.
type loadResult struct {
	Requests int64         `json:"requests"`
	Elapsed  time.Duration `json:"elapsed"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Errors   int64         `json:"errors"` // non-2xx/3xx answers and socket errors
	CPU      time.Duration `json:"-"`      // the load generator's own CPU time
	// Note says what the TLS loads negotiated (protocol, suite, key
	// exchange, ALPN), for the log.
	Note string `json:"note,omitempty"`
}

// loader drives one URL with a fixed number of concurrent connections:
// kept alive, except the handshake driver's (a new one per request).
type loader interface {
	name() string
	run(ctx context.Context, url string, headers []string, conns int, d time.Duration) (loadResult, error)
}

// wrkLoader runs wrk -t1 (one load thread, as docs/benchmark.md describes), pinned to the load CPU.
type wrkLoader struct {
	path    string
	taskset string
	cpu     int
	script  string // a Lua script of the request (withBody); "": GET
	threads int    // wrk -t (0: one)
}

func (w wrkLoader) name() string { return "wrk -t" + strconv.Itoa(max(w.threads, 1)) }

func (w wrkLoader) run(ctx context.Context, url string, headers []string, conns int, d time.Duration) (loadResult, error) {
	secs := wholeSeconds(d)
	argv := []string{w.path, "-t" + strconv.Itoa(max(w.threads, 1)), "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s"}
	for _, h := range headers {
		argv = append(argv, "-H", h)
	}
	if w.script != "" {
		argv = append(argv, "-s", w.script)
	}
	argv = append(argv, url)
	out, used, err := runTool(ctx, benchproc.Pin(w.taskset, w.cpu, argv), time.Duration(secs)*time.Second, nil)
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return res, fmt.Errorf("wrk output: %v\n%s", err, out)
	}
	res.CPU = used
	return res, nil
}

// wholeSeconds is d rounded up to whole seconds, at least one: what wrk's
// -d and h2load's -D take.
func wholeSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// runTool runs argv, a load generator meant to run for d, and returns its
// output and the CPU time it used. Like timeout(1), it kills one that hangs
// well after d. Its stderr is in the output unless stderr is given.
func runTool(ctx context.Context, argv []string, d time.Duration, stderr io.Writer) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d+15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 2 * time.Second
	var out []byte
	var err error
	if stderr != nil {
		cmd.Stderr = stderr
		out, err = cmd.Output()
	} else {
		out, err = cmd.CombinedOutput()
	}
	var used time.Duration
	if st := cmd.ProcessState; st != nil {
		used = st.UserTime() + st.SystemTime()
	}
	return out, used, err
}

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkTotal    = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockErrs = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads the summary wrk --latency prints.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no Requests/sec line")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	m = wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no 'N requests in T' line")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	r.Elapsed = wrkDuration(m[2], m[3])
	found := 0
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d := wrkDuration(m[2], m[3])
		switch m[1] {
		case "50":
			r.P50 = d
		case "99":
			r.P99 = d
		}
		found++
	}
	if found < 2 {
		return r, errors.New("no 50%/99% latency lines (was --latency given?)")
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Errors += n
	}
	if m := wrkSockErrs.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.Errors += n
		}
	}
	return r, nil
}

func wrkDuration(num, unit string) time.Duration {
	f, _ := strconv.ParseFloat(num, 64)
	mult := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[unit]
	return time.Duration(f * mult)
}

// goLoader runs the built-in load generator in a child process (this same
// binary with -loadgen), so it can be pinned and its CPU kept apart from
// the runner's. mode "handshake" is the TLS handshake driver (tlsload.go)
// instead of keep-alive requests.
type goLoader struct {
	self    string
	taskset string
	cpu     int
	mode    string // "keepalive" or "handshake"
}

func (g goLoader) name() string {
	if g.mode == "handshake" {
		return "built-in handshake driver (crypto/tls, no session cache, X25519, one request per connection)"
	}
	return "built-in Go load generator (wrk not found)"
}

func (g goLoader) run(ctx context.Context, url string, headers []string, conns int, d time.Duration) (loadResult, error) {
	argv := []string{g.self, "-loadgen", url, "-loadgen-mode", g.mode, "-loadgen-conns", strconv.Itoa(conns), "-duration", d.String()}
	for _, h := range headers {
		argv = append(argv, "-loadgen-header", h)
	}
	out, used, err := runTool(ctx, benchproc.Pin(g.taskset, g.cpu, argv), d, os.Stderr)
	if err != nil {
		return loadResult{}, fmt.Errorf("load generator: %v", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("load generator output %q: %v", out, err)
	}
	res.CPU = used
	return res, nil
}

// maxSamples bounds the latency samples kept per connection.
const maxSamples = 1 << 20

// loadgenMain is the -loadgen mode: conns keep-alive connections each
// sending GET url (with headers) in a loop for d; prints a loadResult as
// JSON.
func loadgenMain(target string, headers []string, conns int, d time.Duration) error {
	u, reqBytes, err := loadgenRequest(target, "http", headers, "", conns, d)
	if err != nil {
		return err
	}

	res := runWorkers(conns, d, func(deadline time.Time) (n, bad int64, mine []time.Duration) {
		mine = make([]time.Duration, 0, 4096)
		for time.Now().Before(deadline) {
			cn, cb := loadConn(u.Host, reqBytes, deadline, &mine)
			n += cn
			bad += cb
			if cn == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond) // cannot connect: do not spin
			}
		}
		return n, bad, mine
	})
	return json.NewEncoder(os.Stdout).Encode(res)
}

// loadgenRequest checks the arguments of a built-in load generator mode
// and builds its request: a GET of target (a scheme:// URL) with the
// header lines extra (each ending in CRLF) and headers.
func loadgenRequest(target, scheme string, headers []string, extra string, conns int, d time.Duration) (*url.URL, []byte, error) {
	if conns < 1 || conns > 10000 {
		return nil, nil, fmt.Errorf("-loadgen-conns %d: want 1 to 10000", conns)
	}
	if d <= 0 || d > time.Hour {
		return nil, nil, fmt.Errorf("-duration %v: want up to an hour", d)
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != scheme || u.Host == "" {
		return nil, nil, fmt.Errorf("-loadgen %q: want an %s:// URL", target, scheme)
	}
	head := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: portico-bench\r\n" + extra
	for _, h := range headers {
		if strings.ContainsAny(h, "\r\n") || !strings.Contains(h, ":") {
			return nil, nil, fmt.Errorf("-loadgen-header %q: want one Name: value", h)
		}
		head += h + "\r\n"
	}
	return u, []byte(head + "\r\n"), nil
}

// runWorkers runs conns workers of a built-in load generator mode for d
// and sums what they return: the answers counted, the failures among them
// and the latency samples, of which the median and 99th percentile are
// reported.
func runWorkers(conns int, d time.Duration, work func(deadline time.Time) (n, bad int64, samples []time.Duration)) loadResult {
	var (
		total, errs atomic.Int64
		mu          sync.Mutex
		samples     []time.Duration
		wg          sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		wg.Go(func() {
			n, bad, mine := work(deadline)
			total.Add(n)
			errs.Add(bad)
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(samples)
	pct := func(p float64) time.Duration {
		if len(samples) == 0 {
			return 0
		}
		return samples[min(len(samples)-1, int(p*float64(len(samples))))]
	}
	return loadResult{
		Requests: total.Load(), Elapsed: elapsed, Errors: errs.Load(),
		RPS: float64(total.Load()) / elapsed.Seconds(), P50: pct(0.50), P99: pct(0.99),
	}
}

// loadConn sends requests on one connection until deadline or an error;
// it returns the answers counted and the failures (non-2xx/3xx, or the
// error that ended the connection).
func loadConn(host string, req []byte, deadline time.Time, samples *[]time.Duration) (n, bad int64) {
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return 0, 1
	}
	defer c.Close()
	_ = c.SetDeadline(deadline.Add(5 * time.Second))
	br := bufio.NewReaderSize(c, 16<<10)
	for time.Now().Before(deadline) {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return n, bad + 1
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return n, bad + 1
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return n, bad + 1
		}
		n++
		if resp.StatusCode >= 400 {
			bad++
		}
		if len(*samples) < maxSamples {
			*samples = append(*samples, time.Since(t0))
		}
		if resp.Close {
			return n, bad
		}
	}
	return n, bad
}

// loadgenFlags are the flags of the -loadgen mode, registered with the
// runner's own.
type loadgenFlags struct {
	url     *string
	mode    *string
	conns   *int
	headers *headerList
}

// headerList is a repeatable "Name: value" flag.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(s string) error { *h = append(*h, s); return nil }

func registerLoadgenFlags(fs *flag.FlagSet) loadgenFlags {
	lg := loadgenFlags{
		url:     fs.String("loadgen", "", "internal: run as the built-in load generator against this URL and print JSON"),
		mode:    fs.String("loadgen-mode", "keepalive", "internal: keepalive (requests on kept-alive connections) or handshake (a full TLS handshake and one request per connection)"),
		conns:   fs.Int("loadgen-conns", 50, "internal: connections of the built-in load generator"),
		headers: &headerList{},
	}
	fs.Var(lg.headers, "loadgen-header", "internal: a request header of the built-in load generator, Name: value (repeatable)")
	return lg
}

// quickCheck makes sure url answers 200 before load is put on it, over
// HTTP/2 when h2 is set and HTTP/1.1 otherwise: a TLS row whose server
// negotiated the other protocol would measure the wrong thing.
func quickCheck(ctx context.Context, target string, headers []string, h2 bool) error {
	req, err := newGet(ctx, target, headers)
	if err != nil {
		return err
	}
	resp, err := checkClient(3*time.Second, h2).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s = %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	if want := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != want {
		return fmt.Errorf("GET %s was answered over %s, want HTTP/%d", target, resp.Proto, want)
	}
	return nil
}
