package main

import (
	"fmt"
	"io"
	"time"
)

// report prints the figures as the markdown table docs/benchmark.md keeps.
func report(w io.Writer, c config, rs []result) {
	where := "one control plane on SQLite"
	if c.postgres != "" {
		where = "two control planes sharing PostgreSQL, publishes alternating between them"
	}
	fmt.Fprintf(w, "\npublish → served on all %d gateways (%d embedded, %d stand-alone), %s, %d publishes per size\n\n",
		c.gateways+c.controlPlanes(), c.controlPlanes(), c.gateways, where, c.publishes)
	fmt.Fprintln(w, "| services × routes | p50 | p99 | max | gateway RSS (file-backed; Go heap live; peak) | control plane RSS | whole snapshot | delta (gzip) | seeded in |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %d × %d | %s | %s | %s | %.0f MiB (%.0f; %.0f; %.0f MiB) | %.0f MiB | %s | %s (%s) | %s |\n", r.services, r.routes,
			ms(percentile(r.served, 50)), ms(percentile(r.served, 99)), ms(percentile(r.served, 100)),
			mib(r.gateway.rss), mib(r.gateway.file), mib(r.gatewayHeap), mib(r.gateway.peak), mib(r.cpRSS),
			size(r.snapshotBytes), size(r.deltaBytes), size(r.deltaGzip), r.seed.Round(time.Second))
	}
	if len(rs) > 1 {
		first, last := rs[0], rs[len(rs)-1]
		fmt.Fprintf(w, "\np99 from %d to %d services: %.2f×\n", first.services, last.services,
			float64(percentile(last.served, 99))/float64(max(percentile(first.served, 99), 1)))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
