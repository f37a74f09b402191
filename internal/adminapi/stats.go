package adminapi

import (
	"errors"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/store"
)

// ServiceStats gives the figures of a service in a gateway group over time.
type ServiceStats interface {
	ServicePoints(group, serviceID string, window, step time.Duration) ([]svcstats.Point, bool)
}

type statsResponse struct {
	Group   string           `json:"group"`
	Window  string           `json:"window"`
	Step    string           `json:"step"`
	Points  []svcstats.Point `json:"points"`
	Total   svcstats.Point   `json:"total"`
	Serving bool             `json:"serving"` // whether any figures exist (a gateway here saw traffic)
}

// serviceStats answers GET …/services/{s}/stats?group=&window=: requests,
// 5xx errors and latency p50/p99 over the window, in about 30 points.
func (c *call) serviceStats() (any, error) {
	q := c.r.URL.Query()
	window := 15 * time.Minute
	if v := q.Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > svcstats.MaxWindow {
			return nil, fieldError("window", "must be a duration from 1m to 15m")
		}
		window = d
	}
	step := max(window/30, svcstats.BucketSpan).Truncate(svcstats.BucketSpan)
	project, sid := c.path("p"), c.path("s")
	group := q.Get("group")
	var serviceID string
	err := c.view(func(tx store.Tx) error {
		svc, err := c.loadService(tx, project, sid)
		if err != nil {
			return err
		}
		serviceID = svc.ID
		if group == "" {
			p, err := c.loadProject(tx, project)
			if err != nil {
				return err
			}
			group = p.ProductionGroup
		}
		if _, err := tx.GetGroup(c.ctx(), group); errors.Is(err, store.ErrNotFound) {
			return fieldError("group", "gateway group %q does not exist", group)
		} else if err != nil {
			return fmt.Errorf("stats: group %q: %w", group, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := statsResponse{Group: group, Window: window.String(), Step: step.String(), Points: []svcstats.Point{}}
	if c.s.stats != nil {
		if pts, ok := c.s.stats.ServicePoints(group, serviceID, window, step); ok {
			out.Points, out.Serving = pts, true
		}
	}
	for _, p := range out.Points {
		out.Total.Requests += p.Requests
		out.Total.Errors += p.Errors
		out.Total.P50Ms = max(out.Total.P50Ms, p.P50Ms)
		out.Total.P99Ms = max(out.Total.P99Ms, p.P99Ms)
	}
	if out.Total.Requests > 0 {
		out.Total.ErrorRate = float64(out.Total.Errors) / float64(out.Total.Requests)
	}
	return out, nil
}
