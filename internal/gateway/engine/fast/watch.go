package fast

import (
	"time"
)

// watchTick is how often the watcher looks at requests waiting for their
// upstream.
const watchTick = 50 * time.Millisecond

// watcher cancels the upstream call of a request whose client went away,
// as nginx does: fasthttp runs the handler without a context, so nothing
// else would notice before the answer is written. It only looks at
// requests that have waited longer than watchAfter, so the hot path pays
// two uncontended lock pairs and no goroutine.
type watcher struct{ s *Server }

func (w watcher) run(stop <-chan struct{}) {
	t := time.NewTicker(watchTick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			w.scan(now.UnixNano())
		}
	}
}

func (w watcher) scan(now int64) {
	for _, st := range w.s.states.snapshot() {
		since := st.waitingSince.Load()
		if since == 0 || now-since < int64(watchAfter) {
			continue
		}
		st.mu.Lock()
		// The wait may have ended (and the state moved on) since the load.
		if st.waitingSince.Load() == since && st.upConn != nil && st.ctx != nil && !clientAlive(st.ctx.Conn()) {
			st.clientGone.Store(true)
			_ = st.upConn.Close()
		}
		st.mu.Unlock()
	}
}
