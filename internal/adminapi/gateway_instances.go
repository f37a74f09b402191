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
	Total    int                    `json:"total"`
	Revision int64                  `json:"revision"` // the group's current revision
	Applied  int                    `json:"applied"`  // instances that heartbeat and serve it
	Live     int                    `json:"live"`     // instances that heartbeat (healthy or lagging)
}

// listInstances shows the gateway processes of a group with their states.
func (c *call) listInstances() (any, error) {
	var res instancesResult
	err := c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		items, err := tx.ListGatewayInstances(c.ctx(), g.Name)
		if err != nil {
			return fmt.Errorf("instances of gateway group %q: %w", g.Name, err)
		}
		now := c.s.now()
		res = instancesResult{Items: items, Total: len(items), Revision: g.Revision}
		for i := range res.Items {
			in := &res.Items[i]
			in.State = spec.InstanceState(*in, g.Revision, now, c.s.offline)
			switch in.State {
			case spec.InstanceHealthy:
				res.Applied++
				res.Live++
			case spec.InstanceLagging:
				res.Live++
			}
		}
		return nil
	})
	return res, err
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
			items, err := tx.ListGatewayInstances(c.ctx(), group)
			if err != nil {
				return fmt.Errorf("instances of gateway group %q: %w", group, err)
			}
			now := c.s.now()
			conv = convergence{Revision: revision}
			for _, in := range items {
				switch spec.InstanceState(in, revision, now, c.s.offline) {
				case spec.InstanceHealthy:
					conv.Applied++
					conv.Live++
				case spec.InstanceLagging:
					conv.Live++
				}
			}
			return nil
		})
		if err != nil {
			return conv, err
		}
		conv.Summary = fmt.Sprintf("revision %d applied on %d of %d instances", revision, conv.Applied, conv.Live)
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
