package adminapi

import (
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
)

// ServiceStats gives the figures of a service in a gateway group over the
// last 15 minutes; an implementation that is also a MonitoringSource
// (monitoring.go) answers GET …/services/{s}/metrics and …/stats.
type ServiceStats interface {
	ServicePoints(group, serviceID string, window, step time.Duration) ([]svcstats.Point, bool)
}
