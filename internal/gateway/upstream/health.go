package upstream

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/portico-gw/portico/internal/spec"
)

// Health keeps the health of the nodes of checked upstreams across
// revisions, and runs their active checks. A node's health is shared by
// every pool that sends to the same address under the same checks (a
// route's own timeouts, a canary's side, the next revision), and lives as
// long as one of them does: the registry holds it weakly, so a node no
// table uses any more is forgotten, and its checker stops, at a garbage
// collection after the last table that used it went away.
type Health struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	m      map[string]weak.Pointer[nodeHealth]
	// now is the clock, in Unix nanoseconds (tests move it).
	now func() int64
}

// NewHealth starts a registry; Close stops its checkers.
func NewHealth() *Health {
	ctx, cancel := context.WithCancel(context.Background())
	return &Health{ctx: ctx, cancel: cancel, m: map[string]weak.Pointer[nodeHealth]{},
		now: func() int64 { return time.Now().UnixNano() }}
}

// Close stops every active check.
func (h *Health) Close() { h.cancel() }

// The bits of nodeHealth.flags: why a node takes no traffic.
const (
	// activeDown: active probes failed unhealthy_threshold times in a row.
	activeDown = 1 << iota
	// ejected: the circuit is open (passive failures); after openUntil one
	// request may pass (half open).
	ejected
)

// nodeHealth is the health of one node under one upstream's checks.
type nodeHealth struct {
	key, addr, scheme string
	owner             Owner
	clock             func() int64
	passive           *passiveCheck // nil: failures of real traffic eject nothing
	active            bool
	flags             atomic.Uint32
	// openUntil is when an ejected node may take one trial request;
	// trialAt when that trial began (0: none in flight).
	openUntil, trialAt atomic.Int64
	failures           atomic.Int32 // consecutive failures of real traffic
	ejections          atomic.Int32 // consecutive ejections, for the back-off
	changedAt          atomic.Int64
	lastError          atomic.Pointer[string]
	// Figures for /metrics.
	probes, probeFailures, ejectionsTotal atomic.Uint64
}

// passiveCheck is a compiled spec.PassiveCheck.
type passiveCheck struct {
	failures        int32
	statuses        []int
	eject, maxEject time.Duration
}

// trialTimeout frees a half-open trial whose request never reported back
// (its client went away first), so the node is tried again.
const trialTimeout = int64(10 * time.Second)

// node is the health of node of pool p, shared with the other pools of
// the same address and checks; a new one starts its active checker.
func (h *Health) node(p *Pool, n *Node) *nodeHealth {
	if h == nil {
		return nil // validating: nothing is checked
	}
	key := p.owner.Group + "\x00" + p.owner.Service + "\x00" + p.owner.Upstream + "\x00" +
		p.Scheme + "://" + n.Addr + p.tlsKey + "|" + p.checksKey
	h.mu.Lock()
	defer h.mu.Unlock()
	if nh := h.m[key].Value(); nh != nil {
		return nh
	}
	nh := &nodeHealth{key: key, addr: n.Addr, scheme: p.Scheme, owner: p.owner, clock: h.now,
		passive: compilePassive(p.checks.Passive), active: p.checks.Active != nil}
	nh.changedAt.Store(h.now())
	h.m[key] = weak.Make(nh)
	if len(h.m)%64 == 0 {
		h.pruneLocked()
	}
	if a := p.checks.Active; a != nil {
		go runChecker(h.ctx, weak.Make(nh), newProber(p, n, a), compileActive(a))
	}
	return nh
}

func (h *Health) pruneLocked() {
	for k, w := range h.m {
		if w.Value() == nil {
			delete(h.m, k)
		}
	}
}

func compilePassive(c *spec.PassiveCheck) *passiveCheck {
	if c == nil {
		return nil
	}
	pc := &passiveCheck{failures: int32(c.Failures), statuses: c.Statuses,
		eject: seconds(c.EjectSeconds(), 0)}
	if pc.failures <= 0 {
		pc.failures = spec.DefaultPassiveFailures
	}
	if len(pc.statuses) == 0 {
		pc.statuses = spec.DefaultPassiveStatuses
	}
	pc.maxEject = seconds(c.MaxEject, pc.eject*spec.DefaultMaxEjectMultiplicity)
	return pc
}

// checksKey tells apart the checks of two upstreams: the same address
// probed differently is two healths.
func checksKey(c *spec.HealthChecks) string {
	b, _ := json.Marshal(c) // a plain struct: cannot fail
	return string(b)
}

// up reports whether the node takes traffic without a condition.
func (h *nodeHealth) up() bool { return h == nil || h.flags.Load() == 0 }

// eligible reports whether the node may take a request now: up, or
// ejected long enough that its half-open trial is due and not taken.
func (h *nodeHealth) eligible() bool {
	if h == nil || h.flags.Load() == 0 {
		return true
	}
	ok, _, _ := h.trialDue()
	return ok
}

// take reports whether the node may take a request now, and takes the
// half-open trial when it is due: of the requests that race for it, one
// wins.
func (h *nodeHealth) take() bool {
	if h == nil || h.flags.Load() == 0 {
		return true
	}
	ok, trial, now := h.trialDue()
	return ok && h.trialAt.CompareAndSwap(trial, now)
}

// trialDue reports whether an ejected node's half-open trial is due and
// free (a lost one frees after trialTimeout), with the trial's start as
// read and the time; a node the active check found down has none.
func (h *nodeHealth) trialDue() (ok bool, trial, now int64) {
	if h.flags.Load()&activeDown != 0 {
		return false, 0, 0
	}
	now = h.clock()
	trial = h.trialAt.Load()
	return now >= h.openUntil.Load() && (trial == 0 || now-trial > trialTimeout), trial, now
}

// Outcomes of an attempt without an HTTP status, for Observe.
const (
	// Connected: a stream connection was opened (a success).
	Connected = 0
	// ConnectFailed: the node could not be reached (or its TLS handshake
	// failed).
	ConnectFailed = -1
	// TimedOut: the node did not answer in time.
	TimedOut = -2
	// Broken: the connection broke before the answer's header.
	Broken = -3
)

// Observe tells the passive check of n's health how an attempt on it
// ended: with an HTTP status, or Connected, ConnectFailed, TimedOut or
// Broken. A
// node without checks costs one comparison.
func (p *Pool) Observe(n *Node, status int) {
	if n == nil || n.health == nil {
		return
	}
	n.health.observe(status)
}

func (h *nodeHealth) observe(status int) {
	pc := h.passive
	if pc == nil {
		return
	}
	failed := status < 0 || slices.Contains(pc.statuses, status)
	if !failed {
		if h.flags.Load()&ejected != 0 {
			h.close()
		} else if h.failures.Load() != 0 {
			h.failures.Store(0)
		}
		return
	}
	if h.flags.Load()&ejected != 0 {
		if h.trialAt.Load() != 0 {
			h.eject(pc, "the half-open trial failed: "+outcomeText(status))
		}
		return
	}
	if h.failures.Add(1) >= pc.failures {
		h.eject(pc, outcomeText(status))
	}
}

// eject opens the node's circuit: no traffic until the ejection, doubled
// at each consecutive one up to maxEject, has passed.
func (h *nodeHealth) eject(pc *passiveCheck, why string) {
	n := h.ejections.Add(1)
	d := pc.eject
	for i := int32(1); i < n && d < pc.maxEject; i++ {
		d *= 2
	}
	d = min(d, pc.maxEject)
	now := h.clock()
	h.openUntil.Store(now + int64(d))
	h.trialAt.Store(0)
	h.failures.Store(0)
	h.lastError.Store(&why)
	if h.flags.Load()&ejected == 0 {
		h.ejectionsTotal.Add(1)
		h.changedAt.Store(now)
	}
	h.flags.Or(ejected)
}

// close ends an ejection: the node takes traffic again.
func (h *nodeHealth) close() {
	h.failures.Store(0)
	h.ejections.Store(0)
	h.trialAt.Store(0)
	if h.flags.And(^uint32(ejected))&ejected != 0 {
		h.changedAt.Store(h.clock())
	}
}

func outcomeText(status int) string {
	switch status {
	case ConnectFailed:
		return "the connection failed"
	case TimedOut:
		return "no answer in time"
	case Broken:
		return "the connection broke"
	}
	return "answered " + strconv.Itoa(status)
}

// Owner says whose upstream a pool is, for the health of its nodes: two
// services sending to one address keep apart healths (and probes), as
// each has its own checks and its own view in the admin API.
type Owner struct {
	Group, Service, Upstream string
}

// Nodes reports every checked node in use, sorted by group, service and
// address.
func (h *Health) Nodes() []spec.NodeHealth {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	h.pruneLocked()
	hs := make([]*nodeHealth, 0, len(h.m))
	for _, w := range h.m {
		if nh := w.Value(); nh != nil {
			hs = append(hs, nh)
		}
	}
	h.mu.Unlock()
	sort.Slice(hs, func(i, j int) bool { return hs[i].key < hs[j].key })
	out := make([]spec.NodeHealth, 0, len(hs))
	now := h.now()
	for _, nh := range hs {
		s := spec.NodeHealth{Group: nh.owner.Group, Service: nh.owner.Service, Upstream: nh.owner.Upstream,
			Node: nh.addr, Scheme: nh.scheme, Active: nh.active, Passive: nh.passive != nil,
			Since: time.Unix(0, nh.changedAt.Load()).UTC(), Probes: nh.probes.Load(),
			ProbeFailures: nh.probeFailures.Load(), Ejections: nh.ejectionsTotal.Load()}
		f := nh.flags.Load()
		switch {
		case f&activeDown != 0:
			s.State = spec.NodeUnhealthy
		case f&ejected != 0 && now >= nh.openUntil.Load():
			s.State = spec.NodeHalfOpen
		case f&ejected != 0:
			s.State = spec.NodeEjected
		default:
			s.State = spec.NodeHealthy
		}
		if e := nh.lastError.Load(); e != nil && s.State != spec.NodeHealthy {
			s.LastError = *e
		}
		out = append(out, s)
	}
	return out
}
