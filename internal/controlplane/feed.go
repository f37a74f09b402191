package controlplane

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// feedServer is the control plane's end of the configuration feed
// (package feed): stand-alone gateways long-poll it for their group's
// snapshot, presenting a join token of that group. It reads the store only
// through its read view and WaitRevision, so any number of gateways
// waiting costs no write lock; any control plane on the same store can
// answer any gateway.
type feedServer struct {
	st  store.Store
	log *slog.Logger

	// figures receive the canary and per-service figures heartbeats
	// carry; nil: they are checked and dropped.
	figures *gatewayFigures
	// calls keeps the calls stand-alone gateways post; nil: refused (404).
	calls *callCollector

	// epoch starts the consumers' digests it sends (updates.go): a
	// gateway's first update from this process is whole.
	epoch string

	mu      sync.Mutex
	touched map[string]time.Time // token id → when its last_used_at was last written
	beats   map[string]time.Time // group/instance → its last heartbeat kept

	// life ends when the control plane shuts down: waiting polls answer
	// at once instead of holding the shutdown for their whole wait.
	life context.Context
	end  context.CancelFunc
}

// touchEvery bounds how often a token's last_used_at is written: a poll
// every few seconds from each gateway must not queue behind publishes for
// the write lock.
const touchEvery = time.Minute

func newFeedServer(st store.Store, log *slog.Logger) *feedServer {
	life, end := context.WithCancel(context.Background())
	return &feedServer{st: st, log: log, epoch: rand.Text()[:8] + ".", touched: map[string]time.Time{}, beats: map[string]time.Time{}, life: life, end: end}
}

// shutdown answers every waiting poll now (http.Server.RegisterOnShutdown).
func (f *feedServer) shutdown() { f.end() }

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, feed.PathPrefix)
	if group, ok := strings.CutSuffix(rest, feed.CallsSegment); ok && group != "" && !strings.Contains(group, "/") {
		f.postCalls(w, r, group)
		return
	}
	group, instance, beat := strings.Cut(rest, feed.InstancesSegment)
	method := http.MethodGet
	if beat {
		method = http.MethodPost
	}
	switch {
	case group == "" || strings.Contains(group, "/") || (beat && (instance == "" || strings.Contains(instance, "/"))):
		feedError(w, http.StatusNotFound, "not_found", "the feed is at "+feed.PathPrefix+"{group}, heartbeats at …/{group}"+feed.InstancesSegment+"{id}")
		return
	case r.Method != method:
		w.Header().Set("Allow", method)
		feedError(w, http.StatusMethodNotAllowed, "method_not_allowed", "this path answers "+method)
		return
	}
	if beat {
		f.heartbeat(w, r, group, instance)
		return
	}
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		feedError(w, http.StatusBadRequest, "bad_request", "after must be a revision (an integer from 0)")
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		wait, err = time.ParseDuration(v)
		if err != nil || wait < 0 || wait > feed.MaxWait {
			feedError(w, http.StatusBadRequest, "bad_request", "wait must be a duration from 0s to "+feed.MaxWait.String())
			return
		}
	}
	deltas := q.Get(feed.ParamDeltas) == "1"
	consumers := q.Get(feed.ParamConsumers)
	tok, ok := f.admitOrRefuse(w, r, group)
	if !ok {
		return
	}
	f.touch(r.Context(), tok)

	groups := []string{group}
	// An idle poll costs a row read, not a snapshot: the snapshot is
	// assembled only when the group's revision differs from after.
	current, err := f.revision(r.Context(), group)
	if err == nil && current == after && wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		stop := context.AfterFunc(f.life, cancel)
		_, werr := f.st.WaitRevision(ctx, groups, after)
		stop()
		cancel()
		if werr != nil && r.Context().Err() != nil {
			return // the gateway went away
		}
		current, err = f.revision(r.Context(), group)
		// The token may have been revoked while the poll waited.
		if _, ok := f.admitOrRefuse(w, r, group); !ok {
			return
		}
	}
	if err != nil {
		f.log.Error("feed: group revision failed", "group", group, "err", err)
		feedError(w, http.StatusServiceUnavailable, "unavailable", "the group could not be read; poll again")
		return
	}
	if current == after {
		w.Header().Set(feed.HeaderRevision, strconv.FormatInt(current, 10))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A gateway ahead of the store (the control plane restored from an
	// older backup) is sent the store's snapshot as a reset, or it would
	// wait for revisions that mean something else here.
	reset := after > current
	base := after
	if !deltas || reset {
		base = 0 // the whole snapshot
	}
	up, digests, err := updateFor(r.Context(), f.st, groups, base, map[string]string{group: consumers}, f.epoch)
	if err != nil {
		f.log.Error("feed: update failed", "group", group, "err", err)
		feedError(w, http.StatusServiceUnavailable, "unavailable", "the configuration could not be read; poll again")
		return
	}
	rev := up.Revision()
	w.Header().Set(feed.HeaderRevision, strconv.FormatInt(rev, 10))
	if rev == after {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	out := json.NewEncoder(w)
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		out = json.NewEncoder(gz)
	}
	_ = out.Encode(feed.Update{Revision: rev, Reset: up.Snapshot != nil && (reset || rev < after), // the status is sent; a failed write has no one to tell
		Snapshot: up.Snapshot, Delta: up.Delta, Consumers: digests[group]})
}

// admitOrRefuse admits the poll or heartbeat, or answers the refusal.
func (f *feedServer) admitOrRefuse(w http.ResponseWriter, r *http.Request, group string) (spec.GatewayToken, bool) {
	tok, status, why := f.admit(r, group)
	if status == 0 {
		return tok, true
	}
	code := map[int]string{http.StatusUnauthorized: "unauthorized", http.StatusForbidden: "forbidden"}[status]
	if code == "" {
		code = "unavailable"
	}
	feedError(w, status, code, why)
	return tok, false
}

// admit checks the bearer token: a live join token of group. Every
// refusal is logged with the token's hint, never the token.
func (f *feedServer) admit(r *http.Request, group string) (spec.GatewayToken, int, string) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(raw, spec.GatewayTokenPrefix) {
		return spec.GatewayToken{}, http.StatusUnauthorized, "a gateway join token (Authorization: Bearer ptg_…) is required"
	}
	var tok spec.GatewayToken
	err := f.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		tok, err = tx.GatewayTokenByHash(r.Context(), credential.HashKey(raw))
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.log.Warn("feed: unknown, expired or revoked gateway token", "group", group, "client", r.RemoteAddr)
		return tok, http.StatusUnauthorized, "the token is unknown, expired or revoked"
	case err != nil:
		f.log.Error("feed: token lookup failed", "err", err)
		return tok, http.StatusServiceUnavailable, "the token could not be checked; poll again"
	case tok.Group != group:
		f.log.Warn("feed: a token of another group", "group", group, "token_group", tok.Group, "token", tok.Hint, "client", r.RemoteAddr)
		return tok, http.StatusForbidden, "the token is not one of group " + strconv.Quote(group)
	}
	return tok, 0, ""
}

// revision reads the group's current revision.
func (f *feedServer) revision(ctx context.Context, group string) (int64, error) {
	var rev int64
	err := f.st.View(ctx, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, group)
		rev = g.Revision
		return err
	})
	return rev, err
}

// touch records that the token was used, at most once per touchEvery.
func (f *feedServer) touch(ctx context.Context, tok spec.GatewayToken) {
	now := time.Now()
	f.mu.Lock()
	last := f.touched[tok.ID]
	if now.Sub(last) < touchEvery || now.Sub(tok.LastUsedAt) < touchEvery {
		f.mu.Unlock()
		return
	}
	f.touched[tok.ID] = now
	f.mu.Unlock()
	err := f.st.Tx(ctx, func(tx store.Tx) error { return tx.TouchGatewayToken(ctx, tok.ID, now) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.log.Warn("feed: could not record the token's use", "token", tok.Hint, "err", err)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

func feedError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var e feed.Error
	e.Error.Code, e.Error.Message = code, message
	_ = json.NewEncoder(w).Encode(e)
}
