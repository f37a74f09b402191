package fast

import (
	"context"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
)

// watchTick is how often the watcher looks at requests waiting for their
// upstream.
const watchTick = 50 * time.Millisecond

// watcher cancels the upstream call of a request whose client went away
// (and the context of a request whose backend runs in-process, Context),
// as nginx does: fasthttp runs the handler without a context, so nothing
// else would notice before the answer is written. It only looks at
// requests that have waited longer than watchAfter, so the hot path pays
// two uncontended lock pairs and no goroutine.
type watcher struct{ s *Server }

func (w watcher) scan(now int64) {
	for _, st := range w.s.states.snapshot() {
		since := st.waitingSince.Load()
		if since == 0 || now-since < int64(watchAfter) {
			continue
		}
		st.mu.Lock()
		// The wait may have ended (and the state moved on) since the load.
		if st.waitingSince.Load() == since && (st.upConn != nil || st.cancelCtx != nil) && st.ctx != nil && !clientAlive(st.ctx.Conn()) {
			st.clientGone.Store(true)
			if st.upConn != nil {
				_ = st.upConn.Close()
			}
			if st.cancelCtx != nil {
				st.cancelCtx()
			}
		}
		st.mu.Unlock()
	}
}

// Context is the request's context (plugin.ContextSource), made when a
// filter first asks: fasthttp gives a request none. From then on the
// request counts as waiting, so the watcher cancels the context when the
// client leaves; it is cancelled when the request ends in any case. A
// request that never asks (plain proxying) pays nothing.
func (st *state) Context() context.Context {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.reqCtx == nil {
		st.reqCtx, st.cancelCtx = context.WithCancel(context.Background())
		st.ctxMade.Store(true)
		if st.waitingSince.Load() == 0 {
			st.waitingSince.Store(engine.Monotonic())
		}
	}
	return st.reqCtx
}

// endContext cancels the request's context, if a filter made one, and
// ends the wait it marked.
func (st *state) endContext() {
	if !st.ctxMade.Load() {
		return
	}
	st.mu.Lock()
	cancel := st.cancelCtx
	st.reqCtx, st.cancelCtx = nil, nil
	st.ctxMade.Store(false)
	st.waitingSince.Store(0)
	st.mu.Unlock()
	cancel()
}
