package feed

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
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
	// ControlPlane is the base URL of the control plane's admin address,
	// http://cp:9180, or several separated by commas (control planes on
	// one database): the client stays with one while it answers and moves
	// to the next when it does not.
	ControlPlane string
	Group        string              // the one group this gateway serves
	Token        string              // a join token of Group (ptg_…)
	Keys         *credential.Keyring // opens sealed secrets; nil: they stay closed
	Cache        *Cache              // nil: nothing is cached
	HTTP         *http.Client        // nil: one with a 5 s dial timeout
	Logger       *slog.Logger
	Wait         time.Duration // how long one poll waits for a change (default 30 s, at most MaxWait)

	started   bool
	consumers string        // digest of the consumers handed over last ("": unknown)
	current   atomic.Uint32 // which of ControlPlane's control planes is asked
	beatOnce  sync.Once
	beatOK    chan struct{} // a heartbeat got through while polls failed
	status    atomic.Pointer[Status]

	// cacheGap says a cached delta could not be written: the cache's
	// chain ends before it, so the next poll asks for the whole snapshot,
	// which starts a new chain.
	cacheGap atomic.Bool
	writeMu  sync.Mutex // one writer of the cache at a time (shutdown: Applied and WriteCache)

	mu      sync.Mutex
	pending cacheJob   // handed over, to be cached once applied
	queue   []cacheJob // applied, waiting for the cache writer
	wake    chan struct{}
	writing bool // WriteCache runs: Applied queues instead of writing
}

// cacheJob is one update handed over, encoded with its secrets sealed: a
// whole snapshot, or a delta from base.
type cacheJob struct {
	revision, base int64
	delta          bool
	raw            []byte
}

// Applied tells the client the gateway now serves revision (its OnApply):
// the update is cached only then, so one the gateway refused never
// becomes what it starts from. With WriteCache running the write happens
// there, off the gateway's way; otherwise here.
func (c *Client) Applied(revision int64) {
	c.mu.Lock()
	p := c.pending
	c.pending = cacheJob{}
	if c.Cache == nil || p.raw == nil || p.revision != revision {
		c.mu.Unlock()
		return
	}
	if c.writing {
		c.queue = append(c.queue, p)
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
		return
	}
	c.mu.Unlock()
	c.write([]cacheJob{p})
}

// WriteCache writes the applied updates to the cache until ctx ends, then
// the ones still queued. A stand-alone gateway runs it beside the gateway,
// so neither a slow disk nor the folding of deltas into a snapshot holds
// up the next revision.
func (c *Client) WriteCache(ctx context.Context) {
	c.mu.Lock()
	c.writing = true
	c.wake = make(chan struct{}, 1)
	wake := c.wake
	c.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
		case <-wake:
		}
		c.mu.Lock()
		jobs := c.queue
		c.queue = nil
		if ctx.Err() != nil {
			c.writing = false
		}
		c.mu.Unlock()
		c.write(jobs)
		if ctx.Err() != nil {
			return
		}
	}
}

func (c *Client) write(jobs []cacheJob) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	now := time.Now()
	deltas := false
	for _, j := range jobs {
		var err error
		if j.delta {
			err = c.Cache.saveDeltaRaw(j.base, j.revision, j.raw, now)
			deltas = true
		} else {
			err = c.Cache.saveRaw(j.revision, j.raw, now)
		}
		if err != nil {
			c.logger().Warn("could not cache the applied revision; serving it anyway", "revision", j.revision, "err", err)
			if j.delta {
				c.cacheGap.Store(true)
			}
		} else if !j.delta {
			c.cacheGap.Store(false)
		}
	}
	whole := slices.ContainsFunc(jobs, func(j cacheJob) bool { return !j.delta })
	if deltas {
		folded, err := c.Cache.compact(now)
		if err != nil {
			c.logger().Warn("could not fold the cached deltas into a snapshot", "err", err)
		}
		whole = whole || folded
	}
	if whole {
		// A whole snapshot was encoded and written (or the deltas folded
		// into one): tens of megabytes for a large group, gone now. Give
		// them back rather than keep them as the process's size — the
		// heap would otherwise stay at that peak until a collection
		// needs it, and a gateway that allocates nothing per request
		// rarely collects. Twice: encoding/json keeps its largest buffer
		// (the size of the snapshot) in a pool that only the second
		// collection empties.
		runtime.GC()
		debug.FreeOSMemory()
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

// Next blocks until the control plane has a revision of the group past
// after and returns it with its secrets opened (gateway.Source): a delta
// from after when the control plane could send one, else the whole
// snapshot. Only a cancelled ctx ends it without an update: failures are
// logged and retried.
func (c *Client) Next(ctx context.Context, groups []string, after int64) (spec.SnapshotUpdate, error) {
	if len(groups) != 1 || groups[0] != c.Group {
		return spec.SnapshotUpdate{}, fmt.Errorf("feed: this client serves group %q, asked for %v", c.Group, groups)
	}
	log := c.logger()
	first := !c.started
	c.started = true
	delay := backoff{min: 200 * time.Millisecond, max: 15 * time.Second}
	tried := 0 // control planes that failed since one answered
	for {
		wait := c.wait()
		if first {
			wait = 0 // at start, do not wait for a change: take what there is
		}
		asked := c.base()
		up, err := c.poll(ctx, after, wait)
		if err == nil {
			tried = 0
		} else if tried++; ctx.Err() == nil && c.base() != asked && tried < len(ControlPlanes(c.ControlPlane)) {
			// Moved to another control plane: ask it now; the backoff is
			// for when none answers.
			continue
		}
		if ctx.Err() != nil {
			return spec.SnapshotUpdate{}, ctx.Err()
		}
		switch {
		case err == nil && up != nil:
			if up.Reset {
				log.Warn("the control plane's revisions are behind this gateway's (restored from a backup?); taking its snapshot", "revision", up.Revision, "had", after)
			}
			out := spec.SnapshotUpdate{Snapshot: up.Snapshot, Delta: up.Delta}
			if c.Cache != nil {
				c.hold(out, up.snapshotJSON)
			}
			c.consumers = up.Consumers
			c.setStatus(Status{Connected: true, Revision: up.Revision})
			OpenSecrets(out, c.Keys)
			return out, nil
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
				out := spec.SnapshotUpdate{Snapshot: cached.Snapshot}
				OpenSecrets(out, c.Keys)
				return out, nil
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
		tried = 0
		select {
		case <-ctx.Done():
			return spec.SnapshotUpdate{}, ctx.Err()
		case <-time.After(delay.next()):
		case <-c.answered():
			// A heartbeat got through: the control plane is back, so the
			// backoff ends here rather than up to 15 s later.
		}
	}
}

// hold encodes the update, sealed as it came, to be cached once applied.
// A whole snapshot is cached as the feed sent it (snapshotJSON): its
// services are not decoded beside it (spec.GroupSnapshot.ServicesJSON).
func (c *Client) hold(up spec.SnapshotUpdate, snapshotJSON []byte) {
	var j cacheJob
	var err error
	switch {
	case up.Delta != nil:
		for gi := range up.Delta.Groups { // a cache keeps secrets sealed or not at all
			for i := range up.Delta.Groups[gi].DataSources {
				up.Delta.Groups[gi].DataSources[i].Secret = ""
			}
		}
		j = cacheJob{revision: up.Delta.Revision, base: up.Delta.Base, delta: true}
		j.raw, err = json.Marshal(up.Delta)
	case snapshotJSON != nil:
		if withoutClearSecrets(up.Snapshot) != up.Snapshot {
			// The feed sends secrets sealed: one that came in clear is
			// not written to disk, and neither is the rest.
			c.logger().Warn("the control plane sent a secret in clear; not caching its snapshot", "revision", up.Snapshot.Revision)
			return
		}
		j = cacheJob{revision: up.Snapshot.Revision, raw: snapshotJSON}
	default:
		j = cacheJob{revision: up.Snapshot.Revision}
		j.raw, err = json.Marshal(withoutClearSecrets(up.Snapshot))
	}
	if err != nil {
		return
	}
	c.mu.Lock()
	c.pending = j
	c.mu.Unlock()
}

// poll asks once; a nil Update and nil error mean nothing new within wait.
func (c *Client) poll(ctx context.Context, after int64, wait time.Duration) (*Update, error) {
	base := c.base()
	u := base + PathPrefix + url.PathEscape(c.Group) +
		"?after=" + strconv.FormatInt(after, 10) + "&wait=" + wait.String()
	if after > 0 && c.consumers != "" && !c.cacheGap.Load() {
		u += "&" + ParamDeltas + "=1&" + ParamConsumers + "=" + url.QueryEscape(c.consumers)
	}
	ctx, cancel := context.WithTimeout(ctx, wait+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("feed request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.client().Do(req)
	if err != nil {
		c.failover(base)
		return nil, fmt.Errorf("poll %s: %w", base, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, &RefusedError{Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	default:
		if resp.StatusCode >= 500 {
			c.failover(base)
		}
		return nil, fmt.Errorf("poll %s: status %d: %s", base, resp.StatusCode, errorMessage(resp.Body))
	}
	up, err := decodeUpdate(io.LimitReader(resp.Body, maxUpdateBytes))
	if err != nil {
		c.failover(base)
		return nil, fmt.Errorf("poll %s: read the update: %w", base, err)
	}
	if err := c.check(up, after); err != nil {
		return nil, fmt.Errorf("poll %s: %w", base, err)
	}
	return up, nil
}

// check refuses an update that does not say what it is: an update is
// applied whole or not at all, and only one of this group that moves the
// gateway forward from after (or resets it).
func (c *Client) check(up *Update, after int64) error {
	var groups []string
	switch {
	case (up.Snapshot == nil) == (up.Delta == nil):
		return errors.New("an update holds a snapshot or a delta, not both or neither")
	case up.Delta != nil:
		d := up.Delta
		if d.Revision != up.Revision || d.Base != after || d.Revision <= after || up.Reset {
			return fmt.Errorf("answered a delta %d→%d (update %d) after %d", d.Base, d.Revision, up.Revision, after)
		}
		for _, g := range d.Groups {
			groups = append(groups, g.Group.Name)
		}
	default:
		if up.Revision != up.Snapshot.Revision || (up.Revision <= after && !up.Reset) {
			return fmt.Errorf("answered revision %d (snapshot %d) after %d", up.Revision, up.Snapshot.Revision, after)
		}
		for _, g := range up.Snapshot.Groups {
			groups = append(groups, g.Group.Name)
		}
	}
	for _, g := range groups {
		if g != c.Group {
			return fmt.Errorf("the update holds group %q", g)
		}
	}
	return nil
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

var defaultHTTP = NewHTTPClient(nil)

// NewHTTPClient is the client a gateway polls and reports with. roots,
// when set, are the CAs trusted for an https control plane instead of the
// system's.
func NewHTTPClient(roots *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		ResponseHeaderTimeout: MaxWait + 10*time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}}
}

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
	base := c.base()
	u := base + PathPrefix + url.PathEscape(c.Group) + InstancesSegment + url.PathEscape(id)
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
		c.failover(base)
		return fmt.Errorf("heartbeat to %s: %w", base, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		if c.Status().LastError != "" {
			select { // wake a poll waiting out its backoff (Next)
			case c.answeredCh() <- struct{}{}:
			default:
			}
		}
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return &RefusedError{Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	}
	if resp.StatusCode >= 500 {
		c.failover(base)
	}
	return fmt.Errorf("heartbeat to %s: status %d: %s", base, resp.StatusCode, errorMessage(resp.Body))
}

// SendCalls posts access-log lines of calls the gateway (instance id)
// answered to the control plane, which keeps them for the log search. It
// is an access-log sink's function: lines are valid only during the call.
func (c *Client) SendCalls(ctx context.Context, id string, lines [][]byte) error {
	var body bytes.Buffer
	for _, l := range lines {
		body.Write(l)
		body.WriteByte('\n')
	}
	base := c.base()
	u := base + PathPrefix + url.PathEscape(c.Group) + CallsSegment + "?instance=" + url.QueryEscape(id)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return fmt.Errorf("calls: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("calls to %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("calls to %s: status %d: %s", base, resp.StatusCode, errorMessage(resp.Body))
	}
	return nil
}

// ControlPlanes splits a comma-separated list of control-plane URLs.
func ControlPlanes(list string) []string {
	var out []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// base is the control plane asked now.
func (c *Client) base() string {
	list := ControlPlanes(c.ControlPlane)
	if len(list) == 0 {
		return ""
	}
	return list[int(c.current.Load())%len(list)]
}

// failover moves to the next control plane after base failed (unless
// another call moved already).
func (c *Client) failover(base string) {
	list := ControlPlanes(c.ControlPlane)
	if len(list) < 2 {
		return
	}
	cur := c.current.Load()
	if list[int(cur)%len(list)] == base {
		c.current.CompareAndSwap(cur, cur+1)
	}
}

// answeredCh is the channel a heartbeat that got through signals on.
func (c *Client) answeredCh() chan struct{} {
	c.beatOnce.Do(func() { c.beatOK = make(chan struct{}, 1) })
	return c.beatOK
}

// answered is answeredCh for receiving.
func (c *Client) answered() <-chan struct{} { return c.answeredCh() }
