package main

import "context"

// twoCores runs a target's start with the proxy on both of the machine's
// first two cores: unpinned, nginx with two workers, Portico with the
// GOMAXPROCS the runtime picks (the machine's CPUs). A machine with only
// two cores runs the load generator and the origin on them too, so the
// rate is shared; the CPU per request is the proxy's own either way.
func twoCores(start func(context.Context, *env) (*instance, error)) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		cpu, workers := e.proxyCPU, e.nginxWorkers
		e.proxyCPU, e.nginxWorkers = -1, 2
		defer func() { e.proxyCPU, e.nginxWorkers = cpu, workers }()
		return start(ctx, e)
	}
}
