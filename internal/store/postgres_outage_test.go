package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// cutProxy stands between a store and PostgreSQL, so a test can take the
// database away (as a restart does) without touching the machine's
// server, which other tests share.
type cutProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: the database is gone.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address: the database is back.
func (p *cutProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// TestPostgresOutage: while PostgreSQL is away, a write or a read fails
// at once with ErrUnavailable (the admin API's 503) instead of hanging;
// once it is back, the same store writes again and its gateways' waits
// wake on commits made elsewhere, without being reopened.
func TestPostgresOutage(t *testing.T) {
	dsn := postgresDSN(t)
	p := startProxy(t, "127.0.0.1:5432")
	s := openPostgres(t, strings.Replace(dsn, "127.0.0.1:5432", p.addr, 1))
	t.Cleanup(func() { _ = s.Close() })
	seed(t, s)
	bump(t, s, "default")

	p.cut()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for name, call := range map[string]func() error{
		"write": func() error {
			return s.Tx(ctx, func(tx store.Tx) error {
				_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
				return err
			})
		},
		"read": func() error {
			return s.View(ctx, func(tx store.Tx) error { _, err := tx.GetGroup(ctx, "default"); return err })
		},
	} {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("a %s while the database is away: %v, want ErrUnavailable", name, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the calls waited for the database instead of failing")
	}

	p.restore()
	other := openPostgres(t, dsn) // another control plane, on the database directly
	t.Cleanup(func() { _ = other.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Tx(ctx, func(tx store.Tx) error {
			_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write once the database is back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store listens again: a commit through the other store wakes it.
	cur := revisionOf(t, s, "default")
	wctx, wcancel := context.WithTimeout(ctx, 2*wake)
	defer wcancel()
	ch := waitAsync(wctx, s, []string{"default"}, cur)
	deadline = time.Now().Add(wake)
	for {
		want := bump(t, other, "default")
		select {
		case r := <-ch:
			if r.err != nil || r.rev < want {
				t.Fatalf("WaitRevision after the outage = %d, %v; want %d", r.rev, r.err, want)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		// A bump before the listener reconnected wakes nobody until the
		// reconnection does; bump again, bounded.
		if time.Now().After(deadline) {
			t.Fatal("commits through another store never woke this one after the outage")
		}
	}
}
