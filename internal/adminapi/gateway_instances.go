package adminapi

import (
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// instancesResult is the group's instances with how many serve its
// current revision: "revision r applied on n of m instances".
type instancesResult struct {
	Items    []spec.GatewayInstance `json:"items"`
	Total    int                    `json:"total"`    // instances matching q, over every page
	Revision int64                  `json:"revision"` // the group's current revision
	Applied  int                    `json:"applied"`  // instances that heartbeat and serve it
	Live     int                    `json:"live"`     // instances that heartbeat (healthy or lagging)
}

// listInstances shows the gateway processes of a group with their states,
// a page at a time (q matches the id or the host name); applied and live
// count every instance of the group.
func (c *call) listInstances() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res instancesResult
	err = c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		all, j, err := c.instances(tx, g.Name)
		if err != nil {
			return err
		}
		conv := j.converged(all, g.Revision)
		items, total := pageOf(all, q, func(in spec.GatewayInstance) string { return in.ID + " " + in.Hostname })
		res = instancesResult{Items: items, Total: total, Revision: g.Revision, Applied: conv.Applied, Live: conv.Live}
		for i := range res.Items {
			res.Items[i].State = j.state(res.Items[i], g.Revision)
		}
		return nil
	})
	return res, err
}

// instanceJudge works out the states of one group's instances at one
// moment.
type instanceJudge struct {
	now     time.Time
	offline time.Duration
	tokens  map[string]bool // the group's join tokens still accepted, by id
}

// instances reads a group's instances and what their states depend on.
func (c *call) instances(tx store.Tx, group string) ([]spec.GatewayInstance, instanceJudge, error) {
	items, err := tx.ListGatewayInstances(c.ctx(), group)
	if err != nil {
		return nil, instanceJudge{}, fmt.Errorf("instances of gateway group %q: %w", group, err)
	}
	toks, err := tx.ListGatewayTokens(c.ctx(), group)
	if err != nil {
		return nil, instanceJudge{}, fmt.Errorf("join tokens of gateway group %q: %w", group, err)
	}
	j := instanceJudge{now: c.s.now(), offline: c.s.offline, tokens: make(map[string]bool, len(toks))}
	for _, tok := range toks {
		if tok.ExpiresAt.IsZero() || j.now.Before(tok.ExpiresAt) {
			j.tokens[tok.ID] = true
		}
	}
	return items, j, nil
}

// state is in's state against revision: an instance whose join token is
// gone (revoked or expired) is refused by the feed, and shows so.
func (j instanceJudge) state(in spec.GatewayInstance, revision int64) string {
	return spec.InstanceState(in, revision, j.now, j.offline, in.TokenID == "" || j.tokens[in.TokenID])
}

// converged counts the instances serving revision (or a later one) among
// those whose heartbeats arrive.
func (j instanceJudge) converged(items []spec.GatewayInstance, revision int64) convergence {
	conv := convergence{Revision: revision}
	for _, in := range items {
		switch j.state(in, revision) {
		case spec.InstanceHealthy:
			conv.Applied++
			conv.Live++
		case spec.InstanceLagging:
			conv.Live++
		}
	}
	conv.Summary = fmt.Sprintf("revision %d applied on %d of %d instances", revision, conv.Applied, conv.Live)
	return conv
}

// convergence says how far a change has reached: "revision r applied on
// n of m instances" of its group.
type convergence struct {
	Revision int64  `json:"revision"`
	Applied  int    `json:"applied"` // live instances serving revision or a later one
	Live     int    `json:"live"`    // instances whose heartbeats arrive
	Summary  string `json:"summary"`
}

// maxConvergenceWait bounds ?wait=.
const maxConvergenceWait = 30 * time.Second

// waitParam reads ?wait=, how long a change's answer may wait for the
// group's gateways.
func (c *call) waitParam() (time.Duration, error) {
	v := c.r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxConvergenceWait {
		return 0, fieldError("wait", "must be a duration from 0s to %s", maxConvergenceWait)
	}
	return d, nil
}

// converge counts the group's instances serving revision, waiting up to
// wait for every live one to. Heartbeats arrive at once after an apply,
// so the wait is short when the gateways are well.
func (c *call) converge(group string, revision int64, wait time.Duration) (convergence, error) {
	deadline := time.Now().Add(wait)
	for {
		var conv convergence
		err := c.view(func(tx store.Tx) error {
			items, j, err := c.instances(tx, group)
			conv = j.converged(items, revision)
			return err
		})
		if err != nil {
			return conv, err
		}
		if conv.Applied == conv.Live || !time.Now().Before(deadline) {
			return conv, nil
		}
		select {
		case <-c.ctx().Done():
			return conv, nil
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// historyEntry is a release event with how far its revision has reached
// the group's gateways now: "revision r applied on n of m instances".
type historyEntry struct {
	spec.HistoryEvent
	// Convergence is absent for an event without a revision of its own.
	Convergence *convergence `json:"convergence,omitempty"`
}

// withConvergence adds each event's convergence, reading each group's
// instances once.
func (c *call) withConvergence(tx store.Tx, events []spec.HistoryEvent) ([]historyEntry, error) {
	type groupInstances struct {
		items []spec.GatewayInstance
		judge instanceJudge
	}
	groups := map[string]*groupInstances{}
	out := make([]historyEntry, len(events))
	for i, e := range events {
		out[i].HistoryEvent = e
		if e.Revision <= 0 || e.Group == "" {
			continue
		}
		g := groups[e.Group]
		if g == nil {
			items, j, err := c.instances(tx, e.Group)
			if err != nil {
				return nil, err
			}
			g = &groupInstances{items, j}
			groups[e.Group] = g
		}
		conv := g.judge.converged(g.items, e.Revision)
		out[i].Convergence = &conv
	}
	return out, nil
}
