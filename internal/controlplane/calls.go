package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// callCollector keeps the calls gateways answer in the store, where the
// admin API's log search finds them: the embedded gateway's through an
// access-log sink in the process (sink), stand-alone gateways' through the
// feed (feedServer.calls). Both arrive as the gateway's access-log lines.
//
// Storing every call of a busy gateway would make the store's one writer
// the gateway's bottleneck, so a gateway sends at most so many calls a
// second (engine.CallBudget: past it, failed calls only), and the
// collector holds what it stores to the same budget, whatever a gateway
// sends. What it leaves out is counted, not stored.
type callCollector struct {
	st     store.Store
	log    *slog.Logger
	budget engine.CallBudget

	mu      sync.Mutex
	dropped uint64            // queue full, or the store refused them
	pending []spec.CallRecord // waiting for the next flush
}

func newCallCollector(st store.Store, log *slog.Logger, perSecond int) *callCollector {
	if perSecond <= 0 {
		perSecond = gateway.DefaultCallsPerSecond
	}
	return &callCollector{st: st, log: log, budget: engine.CallBudget{PerSecond: int64(perSecond)}}
}

// sink is the embedded gateway's access-log sink into the collector's
// queue. Both flush every half second, so a call is searchable within a
// second.
func (c *callCollector) sink() accesslog.SinkConfig {
	s := accesslog.FuncSink("control-plane", func(lines [][]byte) error {
		c.keep("", "", lines)
		return nil
	})
	s.FlushInterval = callFlushEvery
	return s
}

// statusMarker is how a line writes the call's status: the access-log
// encoder writes `,"status":` before it (a test pins it), upstream_status
// is spelt differently, and a string value cannot hold the marker (its
// quote would be escaped). The first one is the call's: a composite
// backend's steps, which hold statuses too, come after it.
var statusMarker = []byte(`,"status":`)

// admit decides whether a line is stored under the budget of the current
// second, the gateways' own (engine.CallBudget), told only whether the
// call failed: the line is not decoded before it is admitted.
func (c *callCollector) admit(line []byte, now int64) bool {
	status := http.StatusOK
	if i := bytes.Index(line, statusMarker); i >= 0 && i+len(statusMarker) < len(line) {
		if d := line[i+len(statusMarker)]; d == '4' || d == '5' {
			status = http.StatusInternalServerError
		}
	}
	return c.budget.Admit(status, now)
}

// keep queues lines for the next flush, without waiting for the store. A
// non-empty group (or instance) replaces what the lines say: a
// stand-alone gateway writes into its own group only. The queue holds at
// most maxPendingCalls; past it, calls are dropped and counted.
func (c *callCollector) keep(group, instance string, lines [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().Unix()
	for _, line := range lines {
		if !c.admit(line, now) {
			continue
		}
		var r spec.CallRecord
		if err := json.Unmarshal(line, &r); err != nil {
			continue // not a line of ours: nothing to search
		}
		r.ID = 0
		if group != "" {
			r.Group = group
		}
		if instance != "" {
			r.Instance = instance
		}
		if len(c.pending) >= maxPendingCalls {
			c.dropped++
			continue
		}
		c.pending = append(c.pending, r)
	}
}

// Bounds of the collector's queue: how many calls wait for the store at
// most, and how often they are written (one transaction for every
// gateway's calls, so the store's writer sees two a second however many
// gateways send).
const (
	maxPendingCalls = 20_000
	callFlushEvery  = 500 * time.Millisecond
)

// run writes the queued calls every callFlushEvery until ctx ends, then
// goes on until gatewayStopped is closed: the embedded gateway hands over
// its last calls when it closes its access log, after its drain. Then it
// writes what is left and returns.
func (c *callCollector) run(ctx context.Context, gatewayStopped <-chan struct{}) {
	tick := time.NewTicker(callFlushEvery)
	defer tick.Stop()
	final := func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.flush(flushCtx)
		cancel()
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case <-gatewayStopped:
					final()
					return
				case <-tick.C:
					final()
				}
			}
		case <-tick.C:
			c.flush(ctx)
		}
	}
}

func (c *callCollector) flush(ctx context.Context) {
	c.mu.Lock()
	recs := c.pending
	c.pending = nil
	c.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	if err := c.st.Tx(ctx, func(tx store.Tx) error { return tx.InsertCallRecords(ctx, recs) }); err != nil {
		c.mu.Lock()
		c.dropped += uint64(len(recs))
		c.mu.Unlock()
		c.log.Warn("could not keep calls for the log search", "calls", len(recs), "err", err)
	}
}

// droppedCalls is how many calls were left out since start: past the
// budget, with the queue full, or refused by the store.
func (c *callCollector) droppedCalls() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped + c.budget.Dropped()
}

// postCalls takes a stand-alone gateway's access-log lines (feed.Client
// SendCalls) into the group its token is of.
func (f *feedServer) postCalls(w http.ResponseWriter, r *http.Request, group string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		feedError(w, http.StatusMethodNotAllowed, "method_not_allowed", "this path answers POST")
		return
	}
	instance := r.URL.Query().Get("instance")
	if instance != "" && !feed.ValidInstanceID(instance) {
		feedError(w, http.StatusBadRequest, "bad_request", "an instance id is 1 to 64 letters, digits, '.', '_' or '-'")
		return
	}
	if _, ok := f.admitOrRefuse(w, r, group); !ok {
		return
	}
	if f.calls == nil {
		feedError(w, http.StatusNotFound, "not_found", "this control plane keeps no calls")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, feed.MaxCallBytes))
	if err != nil {
		feedError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a post of calls holds at most %d bytes", feed.MaxCallBytes))
		return
	}
	lines := bytes.Split(bytes.TrimSpace(body), []byte{'\n'})
	if len(lines) > feed.MaxCallLines {
		feedError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a post of calls holds at most %d lines", feed.MaxCallLines))
		return
	}
	f.calls.keep(group, instance, lines)
	w.WriteHeader(http.StatusNoContent)
}
