package adminapi

import (
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// changeInGroup runs act, a change of what group's gateways serve, on the
// service of the path, once the caller may publish into the group's stage
// (a missing group is left to act, which names the field), and counts how
// far the group's instances got with the change's revision (?wait=).
func changeInGroup[R any](c *call, group string, act func(tx store.Tx, project, service string) (R, error), revision func(R) int64) (R, convergence, error) {
	var res R
	wait, err := c.waitParam()
	if err != nil {
		return res, convergence{}, err
	}
	p := c.path("p")
	err = c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if group != "" {
			if err := c.requirePublishIn(tx, group); err != nil {
				return err
			}
		}
		res, err = act(tx, p, s.ID)
		return err
	})
	if err != nil {
		return res, convergence{}, err
	}
	return res, c.committedConvergence(group, revision(res), wait), nil
}

// committedConvergence is converge for a change already committed: a
// failure to count it is logged, not answered as a failed change a client
// would repeat.
func (c *call) committedConvergence(group string, revision int64, wait time.Duration) convergence {
	conv, err := c.converge(group, revision, wait)
	if err != nil {
		c.s.log.Warn("could not count a change's convergence", "group", group, "revision", revision, "err", err)
		return convergence{Revision: revision, Summary: "unknown: the instances could not be read"}
	}
	return conv
}
