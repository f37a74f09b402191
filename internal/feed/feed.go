// Package feed is the configuration feed between a control plane and its
// stand-alone gateways (`portico gateway`): the wire form (Update), the
// client a gateway runs (Client, a gateway.Source), the gateway's on-disk
// cache of what it applied (Cache) and the opening of the sealed secrets a
// snapshot carries (OpenSecrets). The control plane's end, which reads the
// store, is in package controlplane; this package imports no control-plane
// code, so a gateway process carries none.
//
// The protocol is a long poll over HTTP:
//
//	GET /feed/v1/groups/{group}?after=R&wait=30s
//	Authorization: Bearer ptg_…  (a join token of that group)
//
// answers 200 with an Update once the group's revision is past R (at
// once when it already is, or is behind R: a reset), or 204 when wait
// ends first; 401 for a token that is unknown, expired or revoked, 403 for
// a token of another group. A gateway that serves R and adds
// &deltas=1&consumers=D is answered with a delta from R when the revisions
// since R changed only some services (and its consumers are still D): a
// publish costs the bytes of the services it changed. Otherwise, and
// always for R = 0, an Update holds the group's whole snapshot, so a
// gateway that missed any number of revisions catches up in one answer.
// Secrets travel sealed.
package feed

import (
	"encoding/json"
	"io"
	"time"

	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
)

// PathPrefix is where the feed is served on the control plane's admin
// address; the group's name follows.
const PathPrefix = "/feed/v1/groups/"

// HeaderRevision carries the group's current revision on every answer,
// 204 included.
const HeaderRevision = "Portico-Revision"

// MaxWait bounds a poll's wait: beyond it, proxies and load balancers
// between gateway and control plane start cutting idle requests.
const MaxWait = 60 * time.Second

// Update is one answer of the feed at Revision, secrets sealed: the
// group's whole Snapshot, or, for a gateway that asked for deltas and
// serves the revision it polled after, the Delta from it.
type Update struct {
	Revision int64 `json:"revision"`
	// Reset says the control plane's revisions are behind the gateway's
	// (it was restored from an older backup): the snapshot replaces what
	// the gateway serves although its revision is lower.
	Reset    bool                `json:"reset,omitempty"`
	Snapshot *spec.Snapshot      `json:"snapshot,omitempty"`
	Delta    *spec.SnapshotDelta `json:"delta,omitempty"`
	// Consumers is the digest of the group's consumers at Revision: the
	// gateway sends it back with its next poll, and is sent a delta only
	// while its consumers are still the group's (they are not in deltas).
	Consumers string `json:"consumers_digest,omitempty"`

	// snapshotJSON is the snapshot as a gateway read it (decodeUpdate).
	snapshotJSON json.RawMessage
}

// decodeUpdate reads an update as a gateway does: a whole snapshot's
// services are kept as JSON (spec.GroupSnapshot.ServicesJSON), decoded
// one at a time as the table is built, and the snapshot as sent is kept
// for the cache.
func decodeUpdate(r io.Reader) (*Update, error) {
	var wire struct {
		Update
		Snapshot json.RawMessage `json:"snapshot,omitempty"`
	}
	if err := json.NewDecoder(r).Decode(&wire); err != nil {
		return nil, err
	}
	up := wire.Update
	if len(wire.Snapshot) == 0 || string(wire.Snapshot) == "null" {
		return &up, nil
	}
	var lazy struct {
		spec.Snapshot
		Groups []struct {
			spec.GroupSnapshot
			Services []json.RawMessage `json:"services"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(wire.Snapshot, &lazy); err != nil {
		return nil, err
	}
	snap := lazy.Snapshot
	snap.Groups = make([]spec.GroupSnapshot, len(lazy.Groups))
	for i, g := range lazy.Groups {
		snap.Groups[i] = g.GroupSnapshot
		snap.Groups[i].Services, snap.Groups[i].ServicesJSON = nil, g.Services
	}
	up.Snapshot, up.snapshotJSON = &snap, wire.Snapshot
	return &up, nil
}

// Poll parameters besides after and wait: deltas=1 asks for deltas, and
// consumers is the digest of the consumers the gateway holds.
const (
	ParamDeltas    = "deltas"
	ParamConsumers = "consumers"
)

// Error is the body of a refused poll.
type Error struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Heartbeat is what a stand-alone gateway reports every interval:
//
//	POST /feed/v1/groups/{group}/instances/{instance id}
//
// with the same token as its polls; answered 204. The control plane keeps
// the last one (with the time it arrived) and works out the instance's
// state from it: healthy, lagging, lost after three intervals without one,
// offline later.
type Heartbeat struct {
	Hostname   string    `json:"hostname"`
	Addresses  []string  `json:"addresses"`
	Version    string    `json:"version"`
	Engine     string    `json:"engine"`
	Revision   int64     `json:"revision"` // the revision it serves
	FromCache  bool      `json:"from_cache"`
	StartedAt  time.Time `json:"started_at"`
	IntervalMS int64     `json:"interval_ms"`
	Requests   uint64    `json:"requests"` // answered since start
	Errors     uint64    `json:"errors"`   // 5xx among them
	Detail     string    `json:"detail,omitempty"`
	// Stopping says goodbye: the gateway stops cleanly, and shows offline
	// at once rather than lagging, then lost.
	Stopping bool `json:"stopping,omitempty"`
	// Canaries and Services are what the gateway's canary and per-service
	// figures gained since its last heartbeat that arrived: the control
	// plane adds up every instance's, so the canary's guard and the
	// console see the whole group's traffic.
	Canaries []splitstats.Report `json:"canaries,omitempty"`
	Services []svcstats.Report   `json:"services,omitempty"`
	// UpstreamHealth is the health of the group's checked upstream nodes,
	// and Registries how the gateway finds the group's service
	// registries, as this gateway sees them now (whole every time).
	UpstreamHealth []spec.NodeHealth     `json:"upstream_health,omitempty"`
	Registries     []spec.RegistryStatus `json:"registries,omitempty"`
}

// Bounds of one heartbeat's figures.
const (
	MaxCanaryReports  = 2000 // sides of canaries
	MaxServiceReports = 5000 // services; more are reported in later heartbeats
	// Checked nodes and registries; more are left out.
	MaxNodeHealthReports = 2000
	MaxRegistryReports   = 200
)

// InstancesSegment follows the group in a heartbeat's path.
const InstancesSegment = "/instances/"

// CallsSegment ends the path a gateway posts the calls it answered to
// (PathPrefix + group + CallsSegment, ?instance=id): its access-log lines,
// one JSON object (spec.CallRecord) a line.
const CallsSegment = "/calls"

// Bounds of one post of calls.
const (
	MaxCallLines = 5000
	MaxCallBytes = 8 << 20
)
