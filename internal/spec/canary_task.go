package spec

import (
	"fmt"
	"time"
)

// Canary task states.
const (
	CanaryRunning   = "running"
	CanaryCancelled = "cancelled"
	CanaryCompleted = "completed"
)

// Canary is a canary release task of one service in one gateway group
// (a canary release, 灰度发布): while it runs, Weight % of the service's traffic,
// and every request a rule matches, goes to Target. Cancel sends all of it
// back; promote makes the target what the group runs.
type Canary struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	ServiceID string `json:"service_id"`
	Group     string `json:"group"`
	Name      string `json:"name,omitempty"` // the task's name, e.g. 产品发布新功能灰度
	State     string `json:"state"`

	Target CanaryTarget `json:"target"`
	Weight int          `json:"weight"`
	Rules  []CanaryRule `json:"rules,omitempty"`
	HashOn string       `json:"hash_on,omitempty"`
	Routes []string     `json:"routes,omitempty"`
	Guard  *CanaryGuard `json:"guard,omitempty"`

	// BaseVersion is the version the group ran when the task was created.
	BaseVersion string `json:"base_version"`
	// TargetUpstream is what the target resolved to when the task was
	// created: the upstream the gateway sends the target's share to.
	TargetUpstream Upstream `json:"target_upstream"`
	// Reason says why a task ended: who cancelled it, or the guard's
	// finding.
	Reason string `json:"reason,omitempty"`
	// PromotedVersion is the version a promote recorded.
	PromotedVersion string `json:"promoted_version,omitempty"`
	// Figures are the per-side figures: live while the task runs (filled
	// by the admin API), the last ones seen when it ended.
	Figures []CanaryWindow `json:"figures,omitempty"`

	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// CanaryTarget is where a canary sends its share: exactly one of an inline
// upstream, a project upstream by id, or another version of the service.
type CanaryTarget struct {
	Upstream   *Upstream `json:"upstream,omitempty"`
	UpstreamID string    `json:"upstream_id,omitempty"`
	Version    string    `json:"version,omitempty"`
}

// CanaryGuard is the automatic brake: when the target's error rate over
// Window passes MaxErrorRate with at least MinRequests seen, the task
// cancels itself.
type CanaryGuard struct {
	MaxErrorRate float64 `json:"max_error_rate"`   // a fraction: 0.05 is 5 %
	MinRequests  int     `json:"min_requests"`     // at least this many target answers first
	Window       string  `json:"window,omitempty"` // a duration, 10s–15m; default 1m
}

// Guard window bounds: the figures' resolution and reach.
const (
	GuardWindowMin     = 10 * time.Second
	GuardWindowMax     = 15 * time.Minute
	GuardWindowDefault = time.Minute
)

// WindowDuration is the guard's window, the default when unset.
func (g *CanaryGuard) WindowDuration() time.Duration {
	d, err := time.ParseDuration(g.Window)
	if err != nil || g.Window == "" {
		return GuardWindowDefault
	}
	return d
}

// SideFigures are one side of a canary over one window.
type SideFigures struct {
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`     // 5xx answers, connection failures included
	ErrorRate float64 `json:"error_rate"` // Errors / Requests
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
	P99Ms     float64 `json:"p99_ms"`
}

// CanaryWindow is both sides of a canary over one window ("1m0s", "5m0s",
// "15m0s").
type CanaryWindow struct {
	Window  string      `json:"window"`
	Current SideFigures `json:"current"`
	Target  SideFigures `json:"target"`
}

// Validate checks what a create or change of the task may set. The target
// is checked here for shape; that it exists is the release's job.
func (c *Canary) Validate() FieldErrors {
	var fe FieldErrors
	if c.Group == "" {
		fe.Add("group", "is required")
	} else if !ValidSlug(c.Group) {
		fe.Add("group", "is not a valid gateway group name")
	}
	if len(c.Name) > 128 {
		fe.Add("name", "must be at most 128 characters")
	}
	n := 0
	if c.Target.Upstream != nil {
		n++
		fe = append(fe, c.Target.Upstream.Validate("target.upstream.")...)
		if c.Target.Upstream.URL == "" {
			fe = append(fe, c.Target.Upstream.RequireNodes("target.upstream.")...)
		}
	}
	if c.Target.UpstreamID != "" {
		n++
	}
	if c.Target.Version != "" {
		n++
		if !ValidVersion(c.Target.Version) {
			fe.Add("target.version", "is not a valid version string")
		}
	}
	if n != 1 {
		fe.Add("target", "must name exactly one of upstream, upstream_id or version")
	}
	fe = append(fe, validateSplit("", c.Weight, c.Rules, c.HashOn, c.Routes)...)
	if g := c.Guard; g != nil {
		if g.MaxErrorRate < 0 || g.MaxErrorRate >= 1 {
			fe.Add("guard.max_error_rate", "must be a fraction from 0 up to (not including) 1, e.g. 0.05 for 5%%")
		}
		if g.MinRequests < 1 {
			fe.Add("guard.min_requests", "must be at least 1")
		}
		if g.Window != "" {
			d, err := time.ParseDuration(g.Window)
			switch {
			case err != nil:
				fe.Add("guard.window", "must be a duration such as 30s or 5m")
			case d < GuardWindowMin || d > GuardWindowMax:
				fe.Add("guard.window", "must be between %s and %s", GuardWindowMin, GuardWindowMax)
			}
		}
	}
	return fe
}

// Route is what a gateway runs for the task.
func (c *Canary) Route() *CanaryRoute {
	return &CanaryRoute{
		ID: c.ID, Weight: c.Weight, Rules: c.Rules, HashOn: c.HashOn, Routes: c.Routes,
		Target: c.TargetUpstream,
	}
}

// GuardTripped reports whether the guard's limit is passed by the target's
// figures f over the guard's window, and says so.
func (g *CanaryGuard) GuardTripped(f SideFigures) (string, bool) {
	if g == nil || f.Requests < uint64(g.MinRequests) || f.ErrorRate <= g.MaxErrorRate {
		return "", false
	}
	return fmt.Sprintf("guard: the target's error rate was %.1f%% (%d of %d requests) over the last %s, above the limit of %.1f%%",
		100*f.ErrorRate, f.Errors, f.Requests, g.WindowDuration(), 100*g.MaxErrorRate), true
}
