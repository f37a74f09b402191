package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// The idle-connection rows (`make bench-conns`): what holding a keep-alive
// client connection costs a proxy. Each connection makes one request
// through the proxy to the origin and then stays open, silent, the way a
// mobile client's connection sits between requests; the proxy's resident
// memory (VmRSS, children included) is read before, while the connections
// are held, and after they are closed. The HTTPS rows (nginx-https,
// portico-fast-https) do the same over TLS: a full handshake, one request,
// then silence, which is what most mobile clients' connections are.

// idleConnGoal is the most resident memory an idle keep-alive connection
// may cost Portico's fast engine.
const idleConnGoal = 4 << 10

// perSourceIP is how many connections are opened from one loopback source
// address: below the 28 000 ephemeral ports a source address has, so
// 50 000 connections need no sysctl.
const perSourceIP = 20000

// idleSample is one target holding n idle connections.
type idleSample struct {
	target   string
	conns    int
	base     int64 // RSS before, bytes
	held     int64 // RSS with the connections open
	released int64 // RSS after they were closed and the process had time to give memory back
	opened   time.Duration
}

func (s idleSample) perConn() float64 { return float64(s.held-s.base) / float64(s.conns) }

// idleConnsBench measures every keep-alive HTTP/1.1 target of cfg (plain
// and HTTPS) at each of cfg.idleConns and prints the table.
func idleConnsBench(ctx context.Context, e *env, cfg config) error {
	most := 0
	for _, n := range cfg.idleConns {
		most = max(most, n)
	}
	// The runner holds the client ends, the proxy the server ends (and
	// their children inherit this limit).
	limit, err := raiseFileLimit(uint64(most) + slackFiles)
	if err != nil {
		return fmt.Errorf("open-file limit: %w", err)
	}
	e.nginxWorkerConns = most + 4096
	var samples []idleSample
	var skipped []string
	block := 0
	for _, n := range cfg.idleConns {
		for _, t := range cfg.targets {
			if (t.load != loadPlain && t.load != loadHTTPS) || t.name == "direct" {
				continue
			}
			block++
			s, err := idleSample{}, error(nil)
			if uint64(n)+slackFiles > limit {
				err = errSkip(fmt.Sprintf("the open-file limit is %d and raising it needs CAP_SYS_RESOURCE (ulimit -Hn)", limit))
			} else {
				s, err = measureIdle(ctx, e, t, n, block)
			}
			if err != nil {
				var skip skipError
				if errors.As(err, &skip) {
					logf("idle %s c=%d: skipped: %v", t.name, n, err)
					skipped = append(skipped, fmt.Sprintf("%s c=%d: skipped: %v", t.name, n, err))
					continue
				}
				return fmt.Errorf("idle connections, %s c=%d: %w", t.name, n, err)
			}
			logf("idle %-14s c=%-6d %7.1f KB per connection (RSS %s → %s, %s after close; opened in %v)",
				t.name, n, s.perConn()/1024, mib(s.base), mib(s.held), mib(s.released), s.opened.Round(time.Millisecond))
			samples = append(samples, s)
		}
	}
	printIdleTable(os.Stdout, samples)
	for _, s := range skipped {
		fmt.Println(s)
	}
	return nil
}

// measureIdle starts t fresh, opens n keep-alive connections to it (from
// the source addresses of block) that each make one request, reads its
// memory, closes them and reads it again.
func measureIdle(ctx context.Context, e *env, t target, n, block int) (idleSample, error) {
	inst, err := t.start(ctx, e)
	if err != nil {
		return idleSample{}, err
	}
	defer inst.stop()
	if err := quickCheck(ctx, inst.url, inst.headers, false); err != nil {
		return idleSample{}, err
	}
	u, err := url.Parse(inst.url)
	if err != nil {
		return idleSample{}, err
	}
	s := idleSample{target: t.name, conns: n}
	s.base = settledRSS(ctx, inst)
	started := time.Now()
	conns, err := openIdle(ctx, u, inst.headers, n, block)
	defer closeAll(conns)
	if err != nil {
		return idleSample{}, err
	}
	s.opened = time.Since(started)
	s.held = settledRSS(ctx, inst)
	closeAll(conns)
	conns = nil
	// A Go process hands freed memory back to the kernel in the
	// background over some seconds; nginx frees at once.
	pause(ctx, 10*time.Second)
	s.released = benchproc.TreeRSS(inst.measured...)
	return s, nil
}

// settledRSS reads the target's RSS after 10 s (what a proxy does with an
// idle connection can take that long: Portico parks one after a second,
// and gives back what a wave of them left after a few more), once it has
// stopped moving (two reads half a second apart within 1 %), or after 15 s.
func settledRSS(ctx context.Context, inst *instance) int64 {
	pause(ctx, 10*time.Second)
	last := benchproc.TreeRSS(inst.measured...)
	for range 10 {
		pause(ctx, 500*time.Millisecond)
		now := benchproc.TreeRSS(inst.measured...)
		if d := now - last; d < now/100 && -d < now/100 {
			return now
		}
		last = now
	}
	return last
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// openIdle opens n connections to u's host (with a TLS handshake for an
// https URL), each sending one GET of u and reading the whole answer,
// eight at a time; the i-th comes from 127.<block>.<i/perSourceIP>.1.
func openIdle(ctx context.Context, u *url.URL, headers []string, n, block int) ([]net.Conn, error) {
	addr := u.Host
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	req += "\r\n"
	conns := make([]net.Conn, n)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				c, err := oneIdleConn(ctx, addr, req, net.IPv4(127, byte(block), byte(i/perSourceIP), 1), u.Scheme == "https")
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("connection %d: %w", i, err)
				}
				conns[i] = c
				mu.Unlock()
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return conns, first
}

// oneIdleConn dials addr from src (over TLS when overTLS), makes the
// request and reads the answer (bounded by 10 s), and leaves the
// connection open and quiet.
func oneIdleConn(ctx context.Context, addr, req string, src net.IP, overTLS bool) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
	var c net.Conn
	var err error
	if overTLS {
		// The runner trusts no certificate (see benchCert); what is
		// measured is the server's cost of holding the session.
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: benchCertName, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}}
		c, err = td.DialContext(ctx, "tcp", addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		_ = c.Close()
		return nil, err
	}
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return fail(err)
	}
	if _, err := io.WriteString(c, req); err != nil {
		return fail(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
	if err != nil {
		return fail(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("status %d", resp.StatusCode))
	}
	if resp.Close {
		return fail(errors.New("the proxy closed the connection after one request"))
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return fail(err)
	}
	return c, nil
}

// closeAll closes the connections with a reset (SO_LINGER 0), so the next
// row's connections do not wait for ports held in TIME_WAIT.
func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c == nil {
			continue
		}
		raw := c
		if tc, ok := c.(*tls.Conn); ok {
			raw = tc.NetConn()
		}
		if tc, ok := raw.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// slackFiles is what a process needs open beside the measured
// connections.
const slackFiles = 1000

// raiseFileLimit raises the open-file limit to n, or as far as this
// process may (the hard limit, without CAP_SYS_RESOURCE), and returns it.
func raiseFileLimit(n uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur >= n {
		return l.Cur, nil
	}
	want := syscall.Rlimit{Cur: n, Max: max(l.Max, n)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return n, nil
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func printIdleTable(w io.Writer, samples []idleSample) {
	fmt.Fprintln(w, "\nIdle keep-alive connections (each made one request through the proxy, then stays open and silent):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tconnections\tRSS before\tRSS held\tper connection\t10 s after close\topened in\t")
	for _, s := range samples {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.1f KB\t%s\t%v\t\n", s.target, s.conns, mib(s.base), mib(s.held),
			s.perConn()/1024, mib(s.released), s.opened.Round(time.Millisecond))
	}
	_ = tw.Flush()
	for _, s := range samples {
		switch s.target {
		case "portico-fast":
			fmt.Fprintf(w, "goal: portico-fast holds an idle keep-alive connection in ≤ %d KB of RSS (c=%d: %.1f KB): %s\n",
				idleConnGoal>>10, s.conns, s.perConn()/1024, verdict(s.perConn() <= idleConnGoal))
		case "portico-fast-https":
			// A TLS session's keys and record buffers are the floor here
			// (crypto/tls keeps them in the *tls.Conn), so the goal is
			// nginx's own cost of an idle TLS connection.
			for _, ref := range samples {
				if ref.target == "nginx-https" && ref.conns == s.conns {
					fmt.Fprintf(w, "goal: portico-fast-https holds an idle TLS keep-alive connection in no more RSS than nginx-https (c=%d: %.1f KB, nginx %.1f KB): %s\n",
						s.conns, s.perConn()/1024, ref.perConn()/1024, verdict(s.perConn() <= ref.perConn()))
				}
			}
		}
	}
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
