package sqlbackend

import "github.com/prometheus/client_golang/prometheus"

// Metrics of data sources, per data source (queries, errors,
// latency, pool in use); read from the pools at scrape time, so the
// request path only adds to atomics.
var (
	descQueries = prometheus.NewDesc("portico_datasource_queries_total",
		"Statements run against a data source.", []string{"data_source"}, nil)
	descErrors = prometheus.NewDesc("portico_datasource_errors_total",
		"Statements that failed or timed out.", []string{"data_source"}, nil)
	descSeconds = prometheus.NewDesc("portico_datasource_query_seconds_total",
		"Time spent in statements, answer streaming included.", []string{"data_source"}, nil)
	descInUse = prometheus.NewDesc("portico_datasource_pool_in_use",
		"Connections of the gateway's pool in use.", []string{"data_source"}, nil)
	descOpen = prometheus.NewDesc("portico_datasource_pool_open",
		"Connections of the gateway's pool open.", []string{"data_source"}, nil)
)

// Describe implements prometheus.Collector.
func (r *Registry) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueries, descErrors, descSeconds, descInUse, descOpen} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (r *Registry) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	pools := make([]*Pool, 0, len(r.pools))
	for _, p := range r.pools {
		pools = append(pools, p)
	}
	r.mu.Unlock()
	for _, p := range pools {
		name := p.Name
		s := p.DB.Stats()
		ch <- prometheus.MustNewConstMetric(descQueries, prometheus.CounterValue, float64(p.queries.Load()), name)
		ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(p.errors.Load()), name)
		ch <- prometheus.MustNewConstMetric(descSeconds, prometheus.CounterValue, float64(p.latencyNanos.Load())/1e9, name)
		ch <- prometheus.MustNewConstMetric(descInUse, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(s.OpenConnections), name)
	}
}
