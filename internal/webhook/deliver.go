package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/store"
)

// Defaults of a Deliverer's zero fields.
const (
	DefaultTimeout     = 10 * time.Second // one attempt, connection to the end of the answer's head
	DefaultBaseDelay   = time.Second      // before the second attempt; doubled after each failure
	DefaultMaxDelay    = time.Hour        // the longest wait between attempts
	DefaultMaxAttempts = 20               // about 9 hours of retries with the defaults: a receiver down for a night still gets its events
	DefaultConcurrency = 8
	// Retention: deliveries made longer ago are deleted, delivered or not.
	Retention = 30 * 24 * time.Hour
)

const (
	// pollInterval is how often Run looks for due deliveries.
	pollInterval = time.Second
	// pruneInterval is how often Run deletes deliveries past Retention.
	pruneInterval = time.Hour
	// perProject bounds one project's attempts at a time, so a receiver
	// that hangs until the timeout holds that many of the Concurrency
	// slots, never all of them.
	perProject = 2
	// dueBatch is how many due deliveries a round reads.
	dueBatch = 500
	// maxResponse is how much of an answer's body is read (and dropped)
	// before the connection is let go.
	maxResponse = 64 << 10
	// maxErrorLen bounds the last_error kept of a failed attempt.
	maxErrorLen = 500
)

// errNoReceiver: the project's webhook was removed after the event.
var errNoReceiver = errors.New("the project has no webhook receiver any more")

// Deliverer POSTs due deliveries to their project's receiver, retrying
// failures with exponential back-off and jitter until one answers 2xx or
// MaxAttempts are spent. One runs per store (the control plane's
// housekeeping, store.Lead). Delivery is at least once: an attempt cut
// short by a restart is made again, with the same HeaderDelivery.
type Deliverer struct {
	Store store.Store
	// Keys opens the projects' webhook secrets (sealed with SecretAAD).
	Keys   *credential.Keyring
	Logger *slog.Logger
	// PrivateNetworks lets receivers be on loopback and private addresses
	// (--webhook-private-networks); link-local and metadata addresses are
	// refused whatever it says (dial.go).
	PrivateNetworks bool
	Timeout         time.Duration // per attempt; 0: DefaultTimeout
	BaseDelay       time.Duration // 0: DefaultBaseDelay
	MaxDelay        time.Duration // 0: DefaultMaxDelay
	MaxAttempts     int           // 0: DefaultMaxAttempts
	Concurrency     int           // attempts at a time; 0: DefaultConcurrency
	Now             func() time.Time

	once     sync.Once
	client   *http.Client
	log      *slog.Logger
	mu       sync.Mutex
	inflight map[string]string // delivery id → project
	running  map[string]int    // project → its attempts under way
	wg       sync.WaitGroup    // every attempt under way
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		if d.Timeout <= 0 {
			d.Timeout = DefaultTimeout
		}
		if d.BaseDelay <= 0 {
			d.BaseDelay = DefaultBaseDelay
		}
		if d.MaxDelay <= 0 {
			d.MaxDelay = DefaultMaxDelay
		}
		if d.MaxAttempts <= 0 {
			d.MaxAttempts = DefaultMaxAttempts
		}
		if d.Concurrency <= 0 {
			d.Concurrency = DefaultConcurrency
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		d.log = d.Logger
		if d.log == nil {
			d.log = slog.New(slog.DiscardHandler)
		}
		d.inflight, d.running = map[string]string{}, map[string]int{}
		d.client = newClient(d.Timeout, d.PrivateNetworks)
	})
}

// newClient is the HTTP client of deliveries: no proxy (a proxy would
// dial the receiver for us, past the address check), no redirects (a
// receiver could send us anywhere), the address check on every dial.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: dialControl(allowPrivate)}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           32,
			MaxIdleConnsPerHost:    perProject,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    timeout,
			MaxResponseHeaderBytes: maxResponse,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run delivers until ctx ends, looking for due deliveries every second
// and pruning those past Retention every hour; it returns once the
// attempts under way have ended (they end with ctx).
func (d *Deliverer) Run(ctx context.Context) {
	d.init()
	if d.PrivateNetworks {
		d.log.Info("webhooks may be delivered to loopback and private addresses (--webhook-private-networks)")
	}
	defer d.wg.Wait()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var pruned time.Time
	failing := false
	for {
		if now := d.Now(); now.Sub(pruned) >= pruneInterval {
			d.prune(ctx, now)
			pruned = now
		}
		_, err := d.dispatch(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			d.log.Warn("could not read the webhook deliveries due; trying again every second", "err", err)
			failing = true
		case err == nil && failing:
			d.log.Info("webhook deliveries read again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunOnce prunes, then makes one attempt of each due delivery it has room
// for and waits for them: a step of Run for tests and tools. It answers
// how many attempts it made.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	d.init()
	d.prune(ctx, d.Now())
	round, err := d.dispatch(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	if round != nil {
		n = round.n
		round.wg.Wait()
	}
	return n, nil
}

func (d *Deliverer) prune(ctx context.Context, now time.Time) {
	err := d.Store.Tx(ctx, func(tx store.Tx) error {
		n, err := tx.PruneWebhooks(ctx, now.Add(-Retention))
		if err == nil && n > 0 {
			d.log.Info("webhook deliveries pruned", "deleted", n, "older_than", Retention.String())
		}
		return err
	})
	if err != nil && ctx.Err() == nil {
		d.log.Warn("could not prune webhook deliveries", "err", err)
	}
}

// receiver is a project's webhook as an attempt needs it.
type receiver struct {
	url    string
	secret []byte // nil: sent unsigned
	err    error  // why it cannot be used (a secret that does not open)
}

// round is the attempts one dispatch started.
type round struct {
	n  int
	wg sync.WaitGroup
}

// dispatch starts an attempt of each due delivery that has a free slot
// (Concurrency in all, perProject per project), oldest first, skipping
// those under way; it does not wait for them.
func (d *Deliverer) dispatch(ctx context.Context) (*round, error) {
	d.mu.Lock()
	free := d.Concurrency - len(d.inflight)
	d.mu.Unlock()
	if free <= 0 {
		return nil, nil
	}
	now := d.Now()
	var due []store.WebhookDelivery
	hooks := map[string]receiver{}
	err := d.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if due, err = tx.DueWebhooks(ctx, now, dueBatch); err != nil {
			return err
		}
		for _, dl := range due {
			if _, ok := hooks[dl.Project]; ok {
				continue
			}
			u, sealed, err := tx.GetProjectWebhook(ctx, dl.Project)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since: so are its deliveries
			}
			if err != nil {
				return err
			}
			hooks[dl.Project] = d.receiver(dl.Project, u, sealed)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due webhook deliveries: %w", err)
	}
	r := &round{}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dl := range due {
		if len(d.inflight) >= d.Concurrency {
			break
		}
		h, ok := hooks[dl.Project]
		if _, busy := d.inflight[dl.ID]; busy || !ok || d.running[dl.Project] >= perProject {
			continue
		}
		d.inflight[dl.ID] = dl.Project
		d.running[dl.Project]++
		r.n++
		r.wg.Add(1)
		d.wg.Go(func() {
			defer r.wg.Done()
			defer d.done(dl)
			d.attempt(ctx, dl, h)
		})
	}
	return r, nil
}

func (d *Deliverer) done(dl store.WebhookDelivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, dl.ID)
	if d.running[dl.Project]--; d.running[dl.Project] <= 0 {
		delete(d.running, dl.Project)
	}
}

func (d *Deliverer) receiver(project, u, sealed string) receiver {
	if u == "" {
		return receiver{err: errNoReceiver}
	}
	r := receiver{url: u}
	if sealed != "" {
		if d.Keys == nil {
			return receiver{err: errors.New("no key to open the webhook secret")}
		}
		secret, err := d.Keys.Open(sealed, SecretAAD(project))
		if err != nil {
			return receiver{err: fmt.Errorf("the webhook secret: %w", err)}
		}
		r.secret = []byte(secret)
	}
	return r
}

// attempt makes one attempt and records it: delivered, due again after
// the back-off, or given up.
func (d *Deliverer) attempt(ctx context.Context, dl store.WebhookDelivery, h receiver) {
	err := h.err
	if err == nil {
		err = d.post(ctx, dl, h)
	}
	if err != nil && ctx.Err() != nil {
		return // cut short by a shutdown: not an attempt, due again
	}
	n := dl.Attempts + 1
	log := d.log.With("project", dl.Project, "event", dl.Event, "delivery", dl.ID, "attempt", n)
	now := d.Now()
	var delivered, next time.Time
	var lastErr string
	switch {
	case err == nil:
		delivered = now
		log.Debug("webhook delivered")
	case errors.Is(err, errNoReceiver) || n >= d.MaxAttempts:
		lastErr = errorText(err)
		log.Error("webhook delivery given up", "err", lastErr)
	default:
		lastErr = errorText(err)
		next = now.Add(Backoff(n, d.BaseDelay, d.MaxDelay))
		log.Warn("webhook delivery failed; it will be tried again", "err", lastErr, "next", next)
	}
	// An answer the receiver gave is recorded even when ctx ended meanwhile.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.Store.Tx(mctx, func(tx store.Tx) error {
		return tx.MarkWebhook(mctx, dl.ID, delivered, next, lastErr)
	}); err != nil {
		log.Warn("could not record a webhook attempt; it will be made again", "err", err)
	}
}

// post sends one delivery, signed now. Success is any 2xx answer.
func (d *Deliverer) post(ctx context.Context, dl store.WebhookDelivery, h receiver) error {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	body := []byte(dl.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the webhook URL: %w", err)
	}
	ts := d.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, dl.Event)
	req.Header.Set(HeaderDelivery, dl.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if h.secret != nil {
		req.Header.Set(HeaderSignature, Sign(h.secret, ts, body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		// Without the URL, which may carry a token in its path or query:
		// the error goes to the log and to the project's delivery list.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %s", d.Timeout)
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c <= 299:
		return nil
	case c >= 300 && c <= 399:
		return fmt.Errorf("the receiver answered %d (redirects are not followed)", c)
	default:
		return fmt.Errorf("the receiver answered %d", c)
	}
}

// Backoff is the wait after a delivery's attempt-th failed attempt: base
// doubled attempt-1 times, at most max, less a random part of up to half
// (so receivers that failed together are not retried together).
func Backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	d := max(base, 0)
	for i := 1; i < attempt && d < maxDelay && d <= math.MaxInt64/2; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return d - rand.N(d/2+1)
}

func errorText(err error) string {
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
	}
	return s
}
