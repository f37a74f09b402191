package controlplane

import (
	"sync"

	"github.com/portico-gw/portico/internal/gateway"
)

// readiness calls Options.OnReady once the gateway listens and has applied
// its first snapshot.
type readiness struct {
	mu       sync.Mutex
	opts     Options
	addrs    Addrs
	listened bool
	gotApply bool
	done     bool
}

func newReadiness(opts Options, admin string) *readiness {
	return &readiness{opts: opts, addrs: Addrs{Admin: admin}}
}

func (r *readiness) listening(l gateway.Listening) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs.Gateway, r.addrs.GatewayTLS, r.addrs.Status, r.listened = l.Gateway, l.TLS, l.Status, true
	r.addrs.GatewayStreams = l.Streams
	r.fire()
}

func (r *readiness) applied(int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gotApply = true
	r.fire()
}

func (r *readiness) fire() {
	if r.done || !r.listened || !r.gotApply {
		return
	}
	r.done = true
	if r.opts.OnReady != nil {
		r.opts.OnReady(r.addrs)
	}
}
