package manifest

import (
	"github.com/portico-gw/portico/internal/spec"
)

// restyChecks are APISIX's upstream checks and Kong's upstream
// healthchecks: both come from lua-resty-healthcheck and share its shape.
type restyChecks struct {
	Active  *restyActive  `json:"active"`
	Passive *restyPassive `json:"passive"`
}

type restyActive struct {
	Type      string         `json:"type"`
	Timeout   float64        `json:"timeout"`
	HTTPPath  string         `json:"http_path"`
	Host      string         `json:"host"`
	Port      int            `json:"port"`
	Healthy   restyHealthy   `json:"healthy"`
	Unhealthy restyUnhealthy `json:"unhealthy"`
}

type restyPassive struct {
	Type      string         `json:"type"`
	Healthy   restyHealthy   `json:"healthy"`
	Unhealthy restyUnhealthy `json:"unhealthy"`
}

type restyHealthy struct {
	Interval     float64 `json:"interval"`
	Successes    int     `json:"successes"`
	HTTPStatuses []int   `json:"http_statuses"`
}

type restyUnhealthy struct {
	Interval     float64 `json:"interval"`
	HTTPFailures int     `json:"http_failures"`
	TCPFailures  int     `json:"tcp_failures"`
	Timeouts     int     `json:"timeouts"`
	HTTPStatuses []int   `json:"http_statuses"`
}

// failures is the threshold Portico counts all failures against: the
// largest of the kinds lua-resty-healthcheck counts apart (0: none set).
func (u restyUnhealthy) failures() (n int, apart bool) {
	seen := 0
	for _, x := range []int{u.HTTPFailures, u.TCPFailures, u.Timeouts} {
		if x > 0 {
			if seen != 0 && x != seen {
				apart = true
			}
			seen = x
			n = max(n, x)
		}
	}
	return n, apart
}

// restyHealthChecks maps them to an upstream's checks; kong says whose
// defaults apply: Kong's active checks run only with an interval, and its
// passive ones only with a failure count, while APISIX's run when given.
func restyHealthChecks(m *Migration, where string, c *restyChecks, kong bool) *spec.HealthChecks {
	if c == nil {
		return nil
	}
	out := &spec.HealthChecks{}
	if a := c.Active; a != nil && (!kong || a.Healthy.Interval > 0 || a.Unhealthy.Interval > 0) {
		ac := &spec.ActiveCheck{Path: a.HTTPPath, Host: a.Host, Port: a.Port, Timeout: a.Timeout,
			Interval: a.Healthy.Interval, UnhealthyInterval: a.Unhealthy.Interval,
			HealthyThreshold: a.Healthy.Successes, Statuses: a.Healthy.HTTPStatuses}
		switch a.Type {
		case "", "http":
		case "https", "tcp":
			ac.Type = a.Type
		default:
			m.note("%s: active check type %q is not known; http is used", where, a.Type)
		}
		if ac.Type == "tcp" {
			ac.Path, ac.Host, ac.Statuses = "", "", nil
		}
		if ac.Interval == 0 && ac.UnhealthyInterval > 0 { // Kong: probes of unhealthy nodes only
			ac.Interval = ac.UnhealthyInterval
		}
		n, apart := a.Unhealthy.failures()
		ac.UnhealthyThreshold = n
		if apart {
			m.note("%s: active check: Portico counts HTTP failures, TCP failures and timeouts together against %d", where, n)
		}
		if len(a.Unhealthy.HTTPStatuses) > 0 {
			m.note("%s: active check: any status not among the healthy ones fails a probe", where)
		}
		out.Active = ac
	}
	if p := c.Passive; p != nil {
		n, apart := p.Unhealthy.failures()
		if !kong || n > 0 {
			out.Passive = &spec.PassiveCheck{Failures: n, Statuses: p.Unhealthy.HTTPStatuses}
			if apart {
				m.note("%s: passive check: Portico counts HTTP failures, TCP failures and timeouts together against %d", where, n)
			}
			m.note("%s: passive check: a node is ejected for %gs, then one request is let through (half open) rather than waiting for its successes",
				where, spec.DefaultEjectSeconds)
		}
	}
	if out.Active == nil && out.Passive == nil {
		return nil
	}
	return out
}
