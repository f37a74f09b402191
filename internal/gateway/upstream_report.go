package gateway

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// UpstreamReport reads a running gateway's view of its upstreams: the
// health of checked nodes and how it finds the service registries it
// follows; empty before Run starts. Heartbeats carry it to the control
// plane, which shows it per gateway instance.
type UpstreamReport struct {
	read atomic.Pointer[upstreamState]
}

type upstreamState struct {
	health *upstream.Health
	disc   *discoverer
}

// Health is the health of the checked nodes of group's services.
func (r *UpstreamReport) Health(group string) []spec.NodeHealth {
	s := r.read.Load()
	if s == nil {
		return nil
	}
	var out []spec.NodeHealth
	for _, n := range s.health.Nodes() {
		if n.Group == group {
			out = append(out, n)
		}
	}
	return out
}

// Registries is how the gateway finds group's registries.
func (r *UpstreamReport) Registries(group string) []spec.RegistryStatus {
	s := r.read.Load()
	if s == nil {
		return nil
	}
	return s.disc.Statuses()[group]
}

// upstreamCollector exports the same to /metrics.
type upstreamCollector struct{ s *upstreamState }

var (
	descNodeUp = prometheus.NewDesc("portico_upstream_node_up",
		"1 when the gateway sends a checked upstream node traffic, 0 when its checks took it out (state: healthy, unhealthy, ejected, half_open).",
		[]string{"group", "service", "node", "state"}, nil)
	descProbes = prometheus.NewDesc("portico_upstream_probes_total",
		"Active health probes of a node, by result.", []string{"group", "service", "node", "result"}, nil)
	descEjections = prometheus.NewDesc("portico_upstream_ejections_total",
		"Times the passive check (circuit breaker) took a node out.", []string{"group", "service", "node"}, nil)
	descRegistryUp = prometheus.NewDesc("portico_registry_up",
		"1 when every service the gateway follows in a service registry answered last, else 0.", []string{"group", "registry"}, nil)
	descRegistrySync = prometheus.NewDesc("portico_registry_last_sync_timestamp_seconds",
		"When nodes last came from a service registry.", []string{"group", "registry"}, nil)
)

func (c upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodeUp, descProbes, descEjections, descRegistryUp, descRegistrySync} {
		ch <- d
	}
}

func (c upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	for _, n := range c.s.health.Nodes() {
		up := 0.0
		if n.State == spec.NodeHealthy {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descNodeUp, prometheus.GaugeValue, up, n.Group, n.Service, n.Node, n.State)
		if n.Active {
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(n.Probes-n.ProbeFailures), n.Group, n.Service, n.Node, "ok")
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(n.ProbeFailures), n.Group, n.Service, n.Node, "failed")
		}
		if n.Passive {
			ch <- prometheus.MustNewConstMetric(descEjections, prometheus.CounterValue, float64(n.Ejections), n.Group, n.Service, n.Node)
		}
	}
	for group, list := range c.s.disc.Statuses() {
		for _, r := range list {
			up := 0.0
			if r.Healthy {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descRegistryUp, prometheus.GaugeValue, up, group, r.Registry)
			if !r.LastSync.IsZero() {
				ch <- prometheus.MustNewConstMetric(descRegistrySync, prometheus.GaugeValue, float64(r.LastSync.Unix()), group, r.Registry)
			}
		}
	}
}
