package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// h2loadLoader runs h2load (nghttp2-client) over TLS with ALPN h2: conns
// connections of streams concurrent streams each, one thread, pinned to
// the load CPU, for the run's duration (-D) under a timeout.
type h2loadLoader struct {
	path    string
	taskset string
	cpu     int
	streams int
}

func (h h2loadLoader) name() string { return fmt.Sprintf("h2load -t1 -m%d", h.streams) }

func (h h2loadLoader) run(ctx context.Context, url string, headers []string, conns int, d time.Duration) (loadResult, error) {
	secs := wholeSeconds(d)
	argv := []string{h.path, "-t1", "-c", strconv.Itoa(conns), "-m", strconv.Itoa(h.streams), "-D", strconv.Itoa(secs)}
	for _, hd := range headers {
		argv = append(argv, "-H", hd)
	}
	argv = append(argv, url)
	out, used, err := runTool(ctx, benchproc.Pin(h.taskset, h.cpu, argv), time.Duration(secs)*time.Second, nil)
	if err != nil {
		return loadResult{}, fmt.Errorf("h2load: %v\n%s", err, tailLines(string(out), 20))
	}
	res, err := parseH2load(string(out))
	if err != nil {
		return res, fmt.Errorf("h2load output: %v\n%s", err, tailLines(string(out), 20))
	}
	res.CPU = used
	return res, nil
}

var (
	h2Finished = regexp.MustCompile(`(?m)^finished in ([0-9.]+)(us|ms|s|m|h), ([0-9.]+) req/s`)
	h2Requests = regexp.MustCompile(`(?m)^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`(?m)^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2ALPN     = regexp.MustCompile(`(?m)^Application protocol: (\S+)`)
	h2TLS      = regexp.MustCompile(`(?m)^TLS Protocol: (\S+)\s*\nCipher: (\S+)(?:\s*\nServer Temp Key: ([^\n]+))?`)
)

// parseH2load reads h2load's summary. It gives no latency percentiles
// (min, max, mean and sd only), so p50 and p99 stay unknown; a run that
// did not negotiate h2 is an error, not a figure.
func parseH2load(out string) (loadResult, error) {
	var r loadResult
	m := h2ALPN.FindStringSubmatch(out)
	switch {
	case m == nil:
		return r, errors.New("no 'Application protocol' line: no protocol negotiated")
	case m[1] != "h2":
		return r, fmt.Errorf("h2load negotiated %s, not h2", m[1])
	}
	if m := h2TLS.FindStringSubmatch(out); m != nil {
		kex := "" // "X25519 253 bits": the group's name
		if f := strings.Fields(m[3]); len(f) > 0 {
			kex = " " + f[0]
		}
		r.Note = m[1] + " " + m[2] + kex + " ALPN h2"
	}
	m = h2Finished.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no 'finished in' line")
	}
	r.Elapsed = wrkDuration(m[1], m[2])
	r.RPS, _ = strconv.ParseFloat(m[3], 64)
	m = h2Requests.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no 'requests:' line")
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	r.Requests = n(m[3]) // done
	r.Errors = n(m[5])   // failed (errored and timed out among them)
	if m := h2Status.FindStringSubmatch(out); m != nil {
		r.Errors += n(m[3]) + n(m[4]) // 4xx, 5xx
	}
	return r, nil
}

// maxHandshakesPerSecond bounds the handshake driver's connections per
// second of a run: several times what one core completes (a few
// thousand), so it only stops a run gone wrong.
const maxHandshakesPerSecond = 50_000

// handshakeConfig is the driver's TLS client. No ClientSessionCache, so
// no session is resumed: every connection is a full handshake. It does
// not verify the bench certificate (nothing trusts it; the server's cost
// is measured, and TLS 1.3 still has the client check the server's
// signature). It offers X25519 alone: crypto/tls would also offer the
// hybrid X25519MLKEM768, which Portico would take and nginx's OpenSSL 3.0
// cannot, and the two would not do the same work. ALPN http/1.1 puts
// Portico's connections on its fast engine.
func handshakeConfig() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true,
		ServerName:         benchCertName,
		NextProtos:         []string{"http/1.1"},
		CurvePreferences:   []tls.CurveID{tls.X25519},
	}
}

// handshakeMain is the -loadgen-mode handshake child: conns workers each
// open a connection, make a full TLS handshake, send one GET with
// Connection: close, read the answer and the server's close, then start
// over, until d has passed or the count bound is reached; prints a
// loadResult as JSON, a request being one such connection.
func handshakeMain(target string, headers []string, conns int, d time.Duration) error {
	u, req, err := loadgenRequest(target, "https", headers, "Connection: close\r\n", conns, d)
	if err != nil {
		return err
	}
	conf := handshakeConfig()
	limit := int64(d.Seconds()*maxHandshakesPerSecond) + int64(conns)

	var (
		issued, resumed atomic.Int64
		noteOnce        sync.Once
		note            string
	)
	res := runWorkers(conns, d, func(deadline time.Time) (n, bad int64, mine []time.Duration) {
		mine = make([]time.Duration, 0, 1024)
		var st tls.ConnectionState
		for time.Now().Before(deadline) && issued.Add(1) <= limit {
			t0 := time.Now()
			cs, status, err := handshakeOnce(u.Host, conf, req, deadline)
			if err != nil {
				bad++
				time.Sleep(10 * time.Millisecond) // cannot connect: do not spin
				continue
			}
			n++
			if status >= 400 {
				bad++
			}
			if cs.DidResume {
				resumed.Add(1)
			}
			st = cs
			if len(mine) < maxSamples {
				mine = append(mine, time.Since(t0))
			}
		}
		if st.Version != 0 {
			noteOnce.Do(func() {
				note = fmt.Sprintf("%s %s %s ALPN %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.CurveID, st.NegotiatedProtocol)
			})
		}
		return n, bad, mine
	})
	res.Note = note + ", full handshakes"
	if r := resumed.Load(); r > 0 {
		// Cannot happen without a session cache; counted so a change that
		// brought resumption in would show rather than flatter the figure.
		res.Errors += r
		res.Note = fmt.Sprintf("%s, %d RESUMED (not full handshakes)", note, r)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// handshakeOnce is one connection of the driver: dial, full handshake,
// one request, its answer, then the server's close (it was asked to close,
// so the server, as with a browser's last request, closes first).
func handshakeOnce(host string, conf *tls.Config, req []byte, deadline time.Time) (tls.ConnectionState, int, error) {
	raw, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return tls.ConnectionState{}, 0, err
	}
	defer raw.Close()
	_ = raw.SetDeadline(deadline.Add(5 * time.Second))
	c := tls.Client(raw, conf)
	if err := c.Handshake(); err != nil {
		return tls.ConnectionState{}, 0, err
	}
	st := c.ConnectionState()
	if _, err := c.Write(req); err != nil {
		return st, 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
	if err != nil {
		return st, 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return st, 0, err
	}
	// Wait a little for the server's close_notify and FIN; then the raw
	// socket is closed (no alert written to a peer that has gone).
	_ = raw.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, c)
	return st, resp.StatusCode, nil
}

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
