package controlplane

import (
	"time"

	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/spec"
)

// splitFigures reads canary figures from the embedded gateway's registry,
// for the admin API and the guard. Stand-alone gateways will report theirs
// with their heartbeat; their figures then add up here.
type splitFigures struct{ reg *splitstats.Registry }

func (f splitFigures) CanaryFigures(id string) ([]spec.CanaryWindow, bool) {
	s, ok := f.reg.Lookup(id)
	if !ok {
		return nil, false
	}
	return s.Figures(time.Now()), true
}

func (f splitFigures) TargetFigures(id string, window time.Duration) (spec.SideFigures, bool) {
	s, ok := f.reg.Lookup(id)
	if !ok {
		return spec.SideFigures{}, false
	}
	return s.Side(true, window, time.Now()), true
}
