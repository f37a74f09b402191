package store

import "sync"

// broadcaster wakes every WaitRevision caller at once. A waiter takes the
// current channel, checks the database, and blocks on the channel; notify
// closes it and installs a fresh one. Taking the channel before the check
// means a commit between the check and the wait is never missed.
//
// Store.Tx calls notify after a commit that bumped a revision. A PostgreSQL
// store will also call it from its LISTEN loop, so commits made by other
// control-plane replicas wake this process's waiters the same way.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster {
	return &broadcaster{ch: make(chan struct{})}
}

// wait returns the channel the next notify closes.
func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// notify wakes everyone waiting on the current channel.
func (b *broadcaster) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
