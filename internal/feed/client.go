package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// Client is a stand-alone gateway's end of the feed, a gateway.Source: it
// long-polls the control plane for its group, caches every snapshot it
// hands over, and, started while the control plane cannot be reached,
// hands over the newest cached one. After that it keeps polling, with
// backoff and jitter, for as long as the gateway runs: through an outage
// the gateway serves what it has.
type Client struct {
	ControlPlane string              // base URL of the control plane's admin address, http://cp:9180
	Group        string              // the one group this gateway serves
	Token        string              // a join token of Group (ptg_…)
	Keys         *credential.Keyring // opens sealed secrets; nil: they stay closed
	Cache        *Cache              // nil: nothing is cached
	HTTP         *http.Client        // nil: one with a 5 s dial timeout
	Logger       *slog.Logger
	Wait         time.Duration // how long one poll waits for a change (default 30 s, at most MaxWait)

	started bool
	status  atomic.Pointer[Status]

	mu      sync.Mutex
	pending pendingSnapshot // handed over, to be cached once applied
}

// pendingSnapshot is a snapshot handed over, encoded with its secrets
// sealed, waiting for the gateway to apply it.
type pendingSnapshot struct {
	revision int64
	raw      []byte
}

// Applied tells the client the gateway now serves revision (its OnApply):
// the snapshot is cached only then, so a snapshot the gateway refused
// never becomes what it starts from.
func (c *Client) Applied(revision int64) {
	c.mu.Lock()
	p := c.pending
	c.pending = pendingSnapshot{}
	c.mu.Unlock()
	if c.Cache == nil || p.raw == nil || p.revision != revision {
		return
	}
	if err := c.Cache.saveRaw(revision, p.raw, time.Now()); err != nil {
		c.logger().Warn("could not cache the applied snapshot; serving it anyway", "revision", revision, "err", err)
	}
}

// Status is what the client last saw, for the gateway's status endpoints
// and logs.
type Status struct {
	Connected bool      // the last poll was answered
	FromCache bool      // what is served came from the cache, not the control plane
	Revision  int64     // the revision last handed over
	LastError string    // why the last poll failed ("" when it did not)
	At        time.Time // when this status was set
}

// Status returns the client's last status (zero before the first poll).
func (c *Client) Status() Status {
	if s := c.status.Load(); s != nil {
		return *s
	}
	return Status{}
}

func (c *Client) setStatus(s Status) {
	s.At = time.Now()
	c.status.Store(&s)
}

// RefusedError is a poll the control plane refused (401, 403): a token
// that is unknown, expired, revoked, or of another group.
type RefusedError struct {
	Status  int
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the control plane refused the token (%d): %s", e.Status, e.Message)
}

// maxUpdateBytes bounds one answer: a group's whole snapshot.
const maxUpdateBytes = 512 << 20

// Next blocks until the control plane has a snapshot of the group past
// after and returns it with its secrets opened (gateway.Source). Only a
// cancelled ctx ends it without a snapshot: failures are logged and
// retried.
func (c *Client) Next(ctx context.Context, groups []string, after int64) (*spec.Snapshot, error) {
	if len(groups) != 1 || groups[0] != c.Group {
		return nil, fmt.Errorf("feed: this client serves group %q, asked for %v", c.Group, groups)
	}
	log := c.logger()
	first := !c.started
	c.started = true
	delay := backoff{min: 200 * time.Millisecond, max: 15 * time.Second}
	for {
		wait := c.wait()
		if first {
			wait = 0 // at start, do not wait for a change: take what there is
		}
		up, err := c.poll(ctx, after, wait)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch {
		case err == nil && up != nil:
			snap := &up.Snapshot
			if up.Reset {
				log.Warn("the control plane's revisions are behind this gateway's (restored from a backup?); taking its snapshot", "revision", snap.Revision, "had", after)
			}
			if c.Cache != nil {
				if raw, err := json.Marshal(withoutClearSecrets(snap)); err == nil {
					c.mu.Lock()
					c.pending = pendingSnapshot{revision: snap.Revision, raw: raw}
					c.mu.Unlock()
				}
			}
			c.setStatus(Status{Connected: true, Revision: snap.Revision})
			OpenSecrets(snap, c.Keys)
			return snap, nil
		case err == nil: // nothing new within wait
			c.setStatus(Status{Connected: true, Revision: after, FromCache: c.Status().FromCache})
			first = false
			delay.reset()
			continue
		}
		if first && c.Cache != nil {
			if cached, lerr := c.Cache.Load(); lerr == nil {
				for _, s := range cached.Skipped {
					log.Warn("skipped a damaged cached snapshot", "file", s)
				}
				log.Warn("control plane unreachable at start; serving the cached snapshot until it answers",
					"revision", cached.Snapshot.Revision, "saved_at", cached.SavedAt, "err", err)
				c.setStatus(Status{FromCache: true, Revision: cached.Snapshot.Revision, LastError: err.Error()})
				OpenSecrets(cached.Snapshot, c.Keys)
				return cached.Snapshot, nil
			}
		}
		first = false
		if refused, ok := errors.AsType[*RefusedError](err); ok {
			log.Error("control plane refused this gateway's token; serving what it has", "status", refused.Status, "detail", refused.Message)
		} else {
			log.Warn("control plane unreachable; serving what it has", "err", err)
		}
		prev := c.Status()
		c.setStatus(Status{FromCache: prev.FromCache, Revision: prev.Revision, LastError: err.Error()})
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay.next()):
		}
	}
}

// poll asks once; a nil Update and nil error mean nothing new within wait.
func (c *Client) poll(ctx context.Context, after int64, wait time.Duration) (*Update, error) {
	u := strings.TrimRight(c.ControlPlane, "/") + PathPrefix + url.PathEscape(c.Group) +
		"?after=" + strconv.FormatInt(after, 10) + "&wait=" + wait.String()
	ctx, cancel := context.WithTimeout(ctx, wait+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("feed request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("poll %s: %w", c.ControlPlane, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, &RefusedError{Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	default:
		return nil, fmt.Errorf("poll %s: status %d: %s", c.ControlPlane, resp.StatusCode, errorMessage(resp.Body))
	}
	var up Update
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxUpdateBytes))
	if err := dec.Decode(&up); err != nil {
		return nil, fmt.Errorf("poll %s: read the snapshot: %w", c.ControlPlane, err)
	}
	// A snapshot is applied whole or not at all: one that does not say what
	// it is, or is not of this group, is not applied.
	if up.Revision != up.Snapshot.Revision || (up.Revision <= after && !up.Reset) {
		return nil, fmt.Errorf("poll %s: answered revision %d (snapshot %d) after %d", c.ControlPlane, up.Revision, up.Snapshot.Revision, after)
	}
	for _, g := range up.Snapshot.Groups {
		if g.Group.Name != c.Group {
			return nil, fmt.Errorf("poll %s: the snapshot holds group %q", c.ControlPlane, g.Group.Name)
		}
	}
	return &up, nil
}

func errorMessage(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	var e Error
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return strings.TrimSpace(string(b))
}

func (c *Client) wait() time.Duration {
	switch {
	case c.Wait <= 0:
		return 30 * time.Second
	case c.Wait > MaxWait:
		return MaxWait
	}
	return c.Wait
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   5 * time.Second,
	ResponseHeaderTimeout: MaxWait + 10*time.Second,
	MaxIdleConnsPerHost:   2,
	IdleConnTimeout:       90 * time.Second,
}}

// backoff is exponential with full jitter: many gateways that lost their
// control plane together do not come back in step.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	ceil := b.min << min(b.n, 16)
	if ceil > b.max || ceil <= 0 {
		ceil = b.max
	}
	b.n++
	return b.min/2 + rand.N(ceil-b.min/2+1)
}

func (b *backoff) reset() { b.n = 0 }

// Beat sends one heartbeat of instance id.
func (c *Client) Beat(ctx context.Context, id string, hb Heartbeat) error {
	body, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	u := strings.TrimRight(c.ControlPlane, "/") + PathPrefix + url.PathEscape(c.Group) + InstancesSegment + url.PathEscape(id)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("heartbeat to %s: %w", c.ControlPlane, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return &RefusedError{Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	}
	return fmt.Errorf("heartbeat to %s: status %d: %s", c.ControlPlane, resp.StatusCode, errorMessage(resp.Body))
}
