package main

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// relayFloor starts bench/relayfloor in mode: a relay of the origin with
// no HTTP work, the least a proxy driving its sockets that way can cost.
func relayFloor(mode string) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		listen, _, err := benchproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		p, err := e.ps.Start("relay-"+mode, e.proxyCPU, nil, e.bins["relayfloor"],
			"-mode", mode, "-addr", listen, "-upstream", e.originAddr)
		if err != nil {
			return nil, err
		}
		inst := &instance{
			url:      "http://" + listen + benchPath,
			measured: []*benchproc.Proc{p},
			stop:     func() { e.ps.Stop(p, 3*time.Second) },
		}
		if err := waitHTTP(ctx, p, inst.url, 200, 10*time.Second); err != nil {
			inst.stop()
			return nil, fmt.Errorf("relay-%s: %w", mode, err)
		}
		return inst, nil
	}
}
