package adminapi

import (
	"fmt"

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
