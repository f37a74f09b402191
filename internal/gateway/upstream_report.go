package gateway

import (
	"slices"
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

// upstreamCollector exports the same to /metrics, read at scrape time:
// the request path updates nothing for it.
type upstreamCollector struct{ s *upstreamState }

var (
	nodeLabels      = []string{"group", "service", "upstream", "node"}
	descNodeHealthy = prometheus.NewDesc("portico_upstream_node_healthy",
		"1 when the gateway sends a checked upstream node traffic, 0 when its checks took it out. upstream is the shared upstream's name, empty for the service's own.",
		nodeLabels, nil)
	descNodeState = prometheus.NewDesc("portico_upstream_node_state",
		"The state of a checked upstream node: 1 for the state it is in, 0 for the others (healthy, unhealthy: active checks failed, ejected: its circuit is open after failures of real traffic, half_open: one trial request may pass).",
		append(slices.Clone(nodeLabels), "state"), nil)
	descProbes = prometheus.NewDesc("portico_upstream_probes_total",
		"Active health probes of a node, by result.", append(slices.Clone(nodeLabels), "result"), nil)
	descEjections = prometheus.NewDesc("portico_upstream_ejections_total",
		"Times the passive check (circuit breaker) took a node out.", nodeLabels, nil)
	descRegistryUp = prometheus.NewDesc("portico_registry_up",
		"1 when every service the gateway follows in a service registry answered last, else 0.", []string{"group", "registry"}, nil)
	descRegistrySync = prometheus.NewDesc("portico_registry_last_sync_timestamp_seconds",
		"When nodes last came from a service registry.", []string{"group", "registry"}, nil)
)

// nodeStates are the states of portico_upstream_node_state, from the best
// to the worst.
var nodeStates = []string{spec.NodeHealthy, spec.NodeHalfOpen, spec.NodeEjected, spec.NodeUnhealthy}

func (c upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodeHealthy, descNodeState, descProbes, descEjections, descRegistryUp, descRegistrySync} {
		ch <- d
	}
}

func (c upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	for _, n := range mergeNodes(c.s.health.Nodes()) {
		lv := []string{n.Group, n.Service, n.Upstream, n.Node}
		healthy := 0.0
		if n.State == spec.NodeHealthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(descNodeHealthy, prometheus.GaugeValue, healthy, lv...)
		for _, state := range nodeStates {
			in := 0.0
			if state == n.State {
				in = 1
			}
			ch <- prometheus.MustNewConstMetric(descNodeState, prometheus.GaugeValue, in, append(lv, state)...)
		}
		if n.Active {
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(n.Probes-n.ProbeFailures), append(lv, "ok")...)
			ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(n.ProbeFailures), append(lv, "failed")...)
		}
		if n.Passive {
			ch <- prometheus.MustNewConstMetric(descEjections, prometheus.CounterValue, float64(n.Ejections), lv...)
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

// mergeNodes makes one of the healths of a node that share its labels:
// the health package keeps a node apart per scheme, TLS settings and
// checks (a canary's target may reach the service's node differently),
// and two series of one label set would fail the whole scrape. The node
// counts as its worst state; the figures add up.
func mergeNodes(nodes []spec.NodeHealth) []spec.NodeHealth {
	type key struct{ group, service, upstream, node string }
	at := make(map[key]int, len(nodes))
	out := nodes[:0:0]
	for _, n := range nodes {
		k := key{n.Group, n.Service, n.Upstream, n.Node}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, n)
			continue
		}
		m := &out[i]
		if slices.Index(nodeStates, n.State) > slices.Index(nodeStates, m.State) {
			m.State = n.State
		}
		m.Active, m.Passive = m.Active || n.Active, m.Passive || n.Passive
		m.Probes += n.Probes
		m.ProbeFailures += n.ProbeFailures
		m.Ejections += n.Ejections
	}
	return out
}
