// Command publish measures what a publish costs as a group grows: for
// groups of 10, 1 000 and 10 000 services of 10 routes, the time from a
// publish request to every gateway of the group serving the new revision
// (the control plane's embedded gateway and stand-alone `portico gateway`
// processes fed over the feed), the bytes the feed sends per publish, and
// the resident memory of a stand-alone gateway. It is part of `make bench`
// (docs/benchmark.md); every process listens on 127.0.0.1 only.
//
//	go run ./bench/publish -sizes 10,1000,10000 -publishes 40
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
	"github.com/portico-gw/portico/internal/store"
)

type config struct {
	sizes     []int
	routes    int
	publishes int
	gateways  int
	bin       string
	limit     time.Duration // how long one publish may take to be served
	// postgres, when set, is an admin DSN of a PostgreSQL server: each
	// size then runs in a database of its own there, with two control
	// planes sharing it, publishes alternating between them and gateways
	// fed by either.
	postgres string
	// heapProfiles, when set, is where a stand-alone gateway's heap
	// profile is saved per size.
	heapProfiles string
}

// result is one group size's figures.
type result struct {
	services, routes int
	seed             time.Duration
	served           []time.Duration // publish → served on every gateway
	gateway          memory          // the last stand-alone gateway's (or the control plane's)
	cpRSS            int64           // bytes
	gatewayHeap      int64           // the stand-alone gateway's Go heap live after a collection, bytes
	snapshotBytes    int             // the feed's whole snapshot, uncompressed
	deltaBytes       int             // the feed's answer to a gateway one publish behind
	deltaGzip        int
	controlPlanes    int
}

// controlPlanes is how many control planes serve: two sharing PostgreSQL,
// or the one of a SQLite store.
func (c config) controlPlanes() int {
	if c.postgres != "" {
		return 2
	}
	return 1
}

func main() {
	var sizes string
	var c config
	flag.StringVar(&sizes, "sizes", "10,1000,10000", "group sizes (services), comma separated")
	flag.IntVar(&c.routes, "routes", 10, "routes per service")
	flag.IntVar(&c.publishes, "publishes", 40, "publishes measured per size")
	flag.IntVar(&c.gateways, "gateways", 2, "stand-alone gateways besides the embedded one")
	flag.StringVar(&c.bin, "bin", "", "portico binary (default: built from this checkout)")
	flag.DurationVar(&c.limit, "limit", 30*time.Second, "longest wait for one publish to be served")
	flag.StringVar(&c.postgres, "postgres", "", "admin DSN of a PostgreSQL server (postgres://user@127.0.0.1:5432/test?sslmode=disable): two control planes on a database there instead of one on SQLite")
	flag.StringVar(&c.heapProfiles, "heap-profiles", "", "directory where a stand-alone gateway's heap profile is saved per size (go tool pprof)")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("-sizes: %q is not a number of services", s)
		}
		c.sizes = append(c.sizes, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp("", "portico-bench-publish-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ps := &benchproc.Procs{Dir: work}
	defer ps.KillAll()
	if c.bin == "" {
		if c.bin, err = benchproc.BuildPortico(ctx, work); err != nil {
			return fmt.Errorf("build portico: %w", err)
		}
	}
	var results []result
	for _, n := range c.sizes {
		r, err := measure(ctx, c, ps, filepath.Join(work, strconv.Itoa(n)), n)
		if err != nil {
			return fmt.Errorf("%d services: %w", n, err)
		}
		results = append(results, r)
	}
	report(os.Stdout, c, results)
	return nil
}

// measure runs one group size: seed, start, publish, stop.
func measure(ctx context.Context, c config, ps *benchproc.Procs, dir string, services int) (result, error) {
	r := result{services: services, routes: c.routes}
	loc := store.Location{Dir: filepath.Join(dir, "data")}
	if c.postgres != "" {
		dsn, drop, err := benchDatabase(ctx, c.postgres, services)
		if err != nil {
			return r, err
		}
		defer drop()
		loc.URL = dsn
	}
	start := time.Now()
	if err := seed(ctx, loc, services, c.routes, 9); err != nil {
		return r, err
	}
	r.seed = time.Since(start)
	log.Printf("%d services of %d routes seeded in %s", services, c.routes, since(start))

	var cps []*process
	for i := range c.controlPlanes() {
		cp, err := startServer(ctx, ps, c.bin, dir, i, loc.URL)
		if err != nil {
			return r, err
		}
		defer cp.stop()
		cps = append(cps, cp)
	}
	cp := cps[0]
	token, err := cp.joinToken(ctx)
	if err != nil {
		return r, err
	}
	gws := slices.Clone(cps)
	for i := range c.gateways {
		// Each gateway starts with another control plane, and moves on
		// to the next when it fails.
		var list []string
		for j := range cps {
			list = append(list, cps[(i+j)%len(cps)].api.Base)
		}
		g, err := startGateway(ctx, ps, c.bin, dir, i, strings.Join(list, ","), token)
		if err != nil {
			return r, err
		}
		defer g.stop()
		gws = append(gws, g)
	}
	rev, err := cp.groupRevision(ctx)
	if err != nil {
		return r, err
	}
	if err := allServe(ctx, gws, rev, c.limit); err != nil {
		return r, err
	}
	full, digest, err := cp.feed(ctx, token, 0, "")
	if err != nil {
		return r, err
	}
	r.snapshotBytes = full.raw
	for i := range c.publishes {
		svc := serviceName(i * 7919 % services) // spread over the group
		t0 := time.Now()
		next, err := cps[i%len(cps)].publish(ctx, svc, fmt.Sprintf("2.0.%d", i))
		if err != nil {
			return r, err
		}
		if err := allServe(ctx, gws, next, c.limit); err != nil {
			return r, fmt.Errorf("publish %d: %w", i, err)
		}
		r.served = append(r.served, time.Since(t0))
		if i == 0 {
			d, _, err := cp.feed(ctx, token, rev, digest)
			if err != nil {
				return r, err
			}
			r.deltaBytes, r.deltaGzip = d.raw, d.gzip
		}
		rev = next
	}
	last := gws[len(gws)-1]
	r.gateway = last.memory()
	if c.gateways > 0 {
		if r.gatewayHeap, err = last.heapLive(ctx); err != nil {
			return r, err
		}
		if c.heapProfiles != "" {
			path := filepath.Join(c.heapProfiles, fmt.Sprintf("gateway-heap-%d.pb.gz", services))
			if err := last.saveHeapProfile(ctx, path); err != nil {
				return r, err
			}
			log.Printf("heap profile of a gateway with %d services: go tool pprof %s", services, path)
		}
	}
	r.cpRSS = cp.rss()
	r.controlPlanes = len(cps)
	log.Printf("%d services: publish → served p50 %s p99 %s", services, percentile(r.served, 50), percentile(r.served, 99))
	return r, nil
}

// percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
