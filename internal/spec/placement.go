package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Placement is where a service runs: a gateway group, what the group is
// for the service's project, the version it runs there and the canary
// release running there, if any. The admin API fills a service's Running
// with them when it answers; they are never stored.
type Placement struct {
	Group string `json:"group"`
	// Stage is "production" for the project's production group, "test"
	// for its test group (when that is another group), "" for any other
	// group the service was published or synced to.
	Stage   string           `json:"stage,omitempty"`
	Version string           `json:"version"`
	Canary  *PlacementCanary `json:"canary,omitempty"`
}

// PlacementCanary is the canary release running in a placement's group:
// Weight percent of the traffic (and what its rules match) goes to the
// target Version (empty when the target is an upstream, not a version).
type PlacementCanary struct {
	ID      string `json:"id"`
	Weight  int    `json:"weight"`
	Version string `json:"version,omitempty"`
}

// Stages of a placement.
const (
	StageProduction = "production"
	StageTest       = "test"
)

// PlacementStage is what group is for a project whose release stages are
// testGroup and productionGroup (empty: the default group).
func PlacementStage(group, testGroup, productionGroup string) string {
	if testGroup == "" {
		testGroup = DefaultGroup
	}
	if productionGroup == "" {
		productionGroup = DefaultGroup
	}
	switch group {
	case productionGroup:
		return StageProduction
	case testGroup:
		return StageTest
	}
	return ""
}

// SortPlacements orders placements production first, then test, then the
// other groups by name.
func SortPlacements(ps []Placement) {
	rank := func(p Placement) int {
		switch p.Stage {
		case StageProduction:
			return 0
		case StageTest:
			return 1
		}
		return 2
	}
	slices.SortFunc(ps, func(a, b Placement) int {
		if r := rank(a) - rank(b); r != 0 {
			return r
		}
		return strings.Compare(a.Group, b.Group)
	})
}

// String is the placement as lists show it: "production 1.3.1 · canary
// 20 % → 1.4.0"; a group without a stage is named.
func (p Placement) String() string {
	where := p.Stage
	if where == "" {
		where = p.Group
	} else if p.Group != p.Stage {
		where += " (" + p.Group + ")"
	}
	s := where + " " + p.Version
	if p.Canary != nil {
		s += fmt.Sprintf(" · canary %d %%", p.Canary.Weight)
		if p.Canary.Version != "" {
			s += " → " + p.Canary.Version
		}
	}
	return s
}

// RunningSummary joins a service's placements as lists show them, or
// "not running".
func RunningSummary(ps []Placement) string {
	if len(ps) == 0 {
		return "not running"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}
