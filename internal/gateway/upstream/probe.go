package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
	"weak"

	"github.com/portico-gw/portico/internal/spec"
)

// activeCheck is a compiled spec.ActiveCheck's timing and thresholds.
type activeCheck struct {
	interval, unhealthyInterval, timeout time.Duration
	healthy, unhealthy                   int
}

func compileActive(a *spec.ActiveCheck) activeCheck {
	c := activeCheck{
		interval: seconds(a.Interval, seconds(spec.DefaultCheckInterval, 0)),
		healthy:  a.HealthyThreshold, unhealthy: a.UnhealthyThreshold,
	}
	c.unhealthyInterval = seconds(a.UnhealthyInterval, c.interval)
	c.timeout = min(seconds(a.Timeout, seconds(spec.DefaultCheckTimeout, 0)), c.interval)
	if c.healthy <= 0 {
		c.healthy = spec.DefaultHealthyThreshold
	}
	if c.unhealthy <= 0 {
		c.unhealthy = spec.DefaultUnhealthyThreshold
	}
	return c
}

// prober checks a node once.
type prober interface {
	probe(ctx context.Context) error
}

// runChecker probes a node until ctx ends or no table uses the node any
// more (w is empty): at once, then every interval (unhealthy_interval
// while it is down). Thresholds in a row move it down and up; a node that
// passes its probes again also leaves an ejection of the passive check.
func runChecker(ctx context.Context, w weak.Pointer[nodeHealth], pr prober, ac activeCheck) {
	successes, failures, down := 0, 0, false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		nh := w.Value()
		if nh == nil {
			return
		}
		pctx, cancel := context.WithTimeout(ctx, ac.timeout)
		err := pr.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		nh.probes.Add(1)
		if err == nil {
			failures = 0
			successes++
			if successes >= ac.healthy {
				if down {
					down = false
					nh.flags.And(^uint32(activeDown))
					nh.changedAt.Store(nh.clock())
				}
				if nh.flags.Load()&ejected != 0 {
					nh.close()
				}
			}
		} else {
			nh.probeFailures.Add(1)
			msg := "active check: " + err.Error()
			nh.lastError.Store(&msg)
			successes = 0
			failures++
			if !down && failures >= ac.unhealthy {
				down = true
				nh.flags.Or(activeDown)
				nh.changedAt.Store(nh.clock())
			}
		}
		next := ac.interval
		if down {
			next = ac.unhealthyInterval
		}
		nh = nil // between probes only the tables keep the node
		timer.Reset(next)
	}
}

// newProber builds the probe of node n of pool p.
func newProber(p *Pool, n *Node, a *spec.ActiveCheck) prober {
	addr := n.Addr
	if a.Port > 0 {
		addr = net.JoinHostPort(n.Host, strconv.Itoa(a.Port))
	}
	if a.Type == "tcp" {
		return tcpProbe{addr: addr}
	}
	scheme := a.Type
	if scheme == "" {
		scheme = "http"
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true,
		MaxResponseHeaderBytes: 64 << 10}
	if scheme == "https" {
		tr.TLSClientConfig = p.ClientTLS(n)
		if a.Host != "" && p.serverName == "" {
			tr.TLSClientConfig.ServerName = a.Host
		}
	}
	path := a.Path
	if path == "" {
		path = "/"
	}
	host := a.Host
	if host == "" {
		host = n.HostHeader
	}
	return &httpProbe{client: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		url: scheme + "://" + addr + path, host: host, statuses: a.Statuses}
}

type tcpProbe struct{ addr string }

func (t tcpProbe) probe(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return err
	}
	return c.Close()
}

type httpProbe struct {
	client    *http.Client
	url, host string
	statuses  []int
}

func (h *httpProbe) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	req.Host = h.host
	req.Header.Set("User-Agent", "portico-health-check")
	resp, err := h.client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // the URL is known; say what happened
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if len(h.statuses) > 0 && !slices.Contains(h.statuses, resp.StatusCode) ||
		len(h.statuses) == 0 && (resp.StatusCode < 200 || resp.StatusCode > 399) {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}
