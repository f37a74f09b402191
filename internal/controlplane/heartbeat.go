package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// maxHeartbeatBytes bounds a heartbeat's body: its figures of up to
// feed.MaxServiceReports services take most of it.
const maxHeartbeatBytes = 8 << 20

// Bounds on what one group's tokens can make the store keep: instances a
// group may have (new ids beyond it are refused until rows go), and the
// shortest spacing of one instance's heartbeats (it beats at its interval
// and once after each apply).
const (
	maxInstancesPerGroup = 1000
	minHeartbeatSpacing  = 50 * time.Millisecond
)

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// checkHeartbeat refuses a heartbeat the store should not keep: every
// field is the gateway's word, so each is bounded.
func checkHeartbeat(hb *feed.Heartbeat) error {
	var fe spec.FieldErrors
	for field, v := range map[string]string{"hostname": hb.Hostname, "version": hb.Version, "detail": hb.Detail} {
		if hasControl(v) {
			fe.Add(field, "must not hold control characters")
		}
	}
	if len(hb.Hostname) > 255 {
		fe.Add("hostname", "must be at most 255 bytes")
	}
	if len(hb.Addresses) > 16 {
		fe.Add("addresses", "must list at most 16 addresses")
	}
	for i, a := range hb.Addresses {
		if len(a) > 100 || hasControl(a) {
			fe.Add(fmt.Sprintf("addresses[%d]", i), "must be at most 100 bytes, without control characters")
		}
	}
	if len(hb.Version) > 100 {
		fe.Add("version", "must be at most 100 bytes")
	}
	if hb.Engine != "fast" && hb.Engine != "nethttp" {
		fe.Add("engine", "must be fast or nethttp")
	}
	if hb.Revision < 0 {
		fe.Add("revision", "must not be negative")
	}
	if hb.IntervalMS < 100 || hb.IntervalMS > 300_000 {
		fe.Add("interval_ms", "must be from 100 to 300000")
	}
	if len(hb.Detail) > 500 {
		fe.Add("detail", "must be at most 500 bytes")
	}
	if hb.StartedAt.Year() < 2000 || hb.StartedAt.Year() > 2200 {
		fe.Add("started_at", "must be a time between 2000 and 2200")
	}
	checkFigures(hb, &fe)
	checkUpstreamReports(hb, &fe)
	return fe.Err()
}

// checkUpstreamReports bounds what a heartbeat says of its upstream nodes
// and registries.
func checkUpstreamReports(hb *feed.Heartbeat, fe *spec.FieldErrors) {
	if len(hb.UpstreamHealth) > feed.MaxNodeHealthReports {
		fe.Add("upstream_health", "must list at most %d nodes", feed.MaxNodeHealthReports)
		return
	}
	if len(hb.Registries) > feed.MaxRegistryReports {
		fe.Add("registries", "must list at most %d registries", feed.MaxRegistryReports)
		return
	}
	bad := func(v string, n int) bool { return len(v) > n || hasControl(v) }
	for i, n := range hb.UpstreamHealth {
		f := fmt.Sprintf("upstream_health[%d]", i)
		if bad(n.Group, 64) || bad(n.Service, 200) || bad(n.Upstream, 200) || bad(n.Node, 300) || bad(n.Scheme, 10) ||
			bad(n.LastError, 500) {
			fe.Add(f, "holds a value too long or with control characters")
		}
		switch n.State {
		case spec.NodeHealthy, spec.NodeUnhealthy, spec.NodeEjected, spec.NodeHalfOpen:
		default:
			fe.Add(f+".state", "must be healthy, unhealthy, ejected or half_open")
		}
	}
	for i, r := range hb.Registries {
		if bad(r.Registry, 64) || bad(r.Error, 500) || r.Instance != "" || r.Services < 0 {
			fe.Add(fmt.Sprintf("registries[%d]", i), "holds a value out of bounds")
		}
	}
}

var errTooManyInstances = errors.New("too many instances")

// beatSpaced says whether a heartbeat of instance id at now comes late
// enough after its last one; it records it if so.
func (f *feedServer) beatSpaced(group, id string, now time.Time) bool {
	key := group + "/" + id
	f.mu.Lock()
	defer f.mu.Unlock()
	if last, ok := f.beats[key]; ok && now.Sub(last) < minHeartbeatSpacing {
		return false
	}
	if len(f.beats) > 4*maxInstancesPerGroup { // forget all rather than grow without bound
		clear(f.beats)
	}
	f.beats[key] = now
	return true
}

// heartbeat keeps a stand-alone gateway's report, stamped with the
// control plane's clock (the gateway's may be off).
func (f *feedServer) heartbeat(w http.ResponseWriter, r *http.Request, group, id string) {
	if !feed.ValidInstanceID(id) {
		feedError(w, http.StatusBadRequest, "bad_request", "an instance id is 1 to 64 letters, digits, '.', '_' or '-'")
		return
	}
	tok, ok := f.admitOrRefuse(w, r, group)
	if !ok {
		return
	}
	// Unknown members are ignored, not refused: a newer gateway's
	// heartbeat may say more than this control plane knows.
	var hb feed.Heartbeat
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHeartbeatBytes))
	if err := dec.Decode(&hb); err != nil {
		feedError(w, http.StatusBadRequest, "bad_request", "the heartbeat is not valid JSON: "+err.Error())
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		feedError(w, http.StatusBadRequest, "bad_request", "the body must hold one heartbeat")
		return
	}
	if err := checkHeartbeat(&hb); err != nil {
		feedError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if hb.Addresses == nil {
		hb.Addresses = []string{}
	}
	in := spec.GatewayInstance{ID: id, Group: group, Hostname: hb.Hostname, Addresses: hb.Addresses, Version: hb.Version,
		Engine: hb.Engine, Revision: hb.Revision, FromCache: hb.FromCache, StartedAt: hb.StartedAt.UTC(),
		LastSeen: time.Now().UTC(), Interval: time.Duration(hb.IntervalMS) * time.Millisecond,
		Requests: hb.Requests, Errors: hb.Errors, Detail: hb.Detail, TokenID: tok.ID, Stopped: hb.Stopping}
	// Only the group's own: a gateway serves one group.
	for _, n := range hb.UpstreamHealth {
		if n.Group == group {
			in.UpstreamHealth = append(in.UpstreamHealth, n)
		}
	}
	in.Registries = hb.Registries
	if !f.beatSpaced(group, id, in.LastSeen) {
		feedError(w, http.StatusTooManyRequests, "too_many_requests", "heartbeats of one instance come at most every "+minHeartbeatSpacing.String())
		return
	}
	// The figures are checked outside the write transaction: it is
	// serialised across every control plane of the store.
	figures, running, err := f.figures.received(r.Context(), f.st, group, &hb)
	if err != nil {
		// The instance is kept; its figures of this beat are lost.
		f.log.Warn("feed: a heartbeat's figures not counted", "group", group, "instance", id, "err", err)
	}
	row, err := f.figures.logRow(group, figures, in.LastSeen)
	if err != nil {
		f.log.Warn("feed: a heartbeat's figures not counted", "group", group, "instance", id, "err", err)
	}
	err = f.st.Tx(r.Context(), func(tx store.Tx) error {
		n, err := tx.CountGatewayInstances(r.Context(), group)
		if err != nil {
			return err
		}
		if n >= maxInstancesPerGroup {
			items, err := tx.ListGatewayInstances(r.Context(), group)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(items, func(x spec.GatewayInstance) bool { return x.ID == id }) {
				return errTooManyInstances
			}
		}
		if err := tx.PutGatewayInstance(r.Context(), &in); err != nil {
			return err
		}
		if row == nil {
			return nil
		}
		return tx.AddFigureReport(r.Context(), row)
	})
	switch {
	case errors.Is(err, errTooManyInstances):
		feedError(w, http.StatusTooManyRequests, "too_many_instances", fmt.Sprintf("group %s has %d instances; a new one is accepted once old ones are gone", group, maxInstancesPerGroup))
	case errors.Is(err, store.ErrNotFound):
		feedError(w, http.StatusNotFound, "not_found", "gateway group "+group+" not found")
	case err != nil:
		f.log.Error("feed: heartbeat not kept", "group", group, "instance", id, "err", err)
		feedError(w, http.StatusServiceUnavailable, "unavailable", "the heartbeat could not be kept; send the next")
	default:
		if err := f.figures.count(group, figures, running, in.LastSeen); err != nil {
			f.log.Warn("feed: a heartbeat's figures not counted", "group", group, "instance", id, "err", err)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
