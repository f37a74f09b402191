package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

var errBoom = errors.New("boom")

// Bounds of the timing checks: quiet is how long a waiter that must keep
// waiting is watched; wake is how long a waiter that must return may take.
const (
	quiet = 100 * time.Millisecond
	wake  = 5 * time.Second
)

// wholeGroups is one whole-group change per group.
func wholeGroups(groups ...string) []store.RevisionChange {
	out := make([]store.RevisionChange, len(groups))
	for i, g := range groups {
		out[i] = store.RevisionChange{Group: g}
	}
	return out
}

// bump commits a whole-group BumpRevision of groups in its own transaction.
func bump(t *testing.T, s store.Store, groups ...string) int64 {
	t.Helper()
	var rev int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		rev, err = tx.BumpRevision(ctx, wholeGroups(groups...)...)
		return err
	})
	return rev
}

// revisionOf reads a group's committed revision.
func revisionOf(t *testing.T, s store.Store, group string) int64 {
	t.Helper()
	var rev int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		g, err := tx.GetGroup(ctx, group)
		rev = g.Revision
		return err
	})
	return rev
}

func testBumpRevision(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	if rev := revisionOf(t, s, "default"); rev != 0 {
		t.Errorf("a new group has revision %d, want 0", rev)
	}

	var last int64
	t.Run("monotonic and only for the named groups", func(t *testing.T) {
		for i := range 10 {
			group, other := "default", "team"
			if i%2 == 1 {
				group, other = other, group
			}
			before := revisionOf(t, s, other)
			rev := bump(t, s, group)
			if rev <= last {
				t.Fatalf("bump %d: revision %d after %d", i, rev, last)
			}
			last = rev
			if got := revisionOf(t, s, group); got != rev {
				t.Errorf("bump %d: %s has revision %d, want %d", i, group, got, rev)
			}
			if got := revisionOf(t, s, other); got != before {
				t.Errorf("bump %d: %s moved from %d to %d without being named", i, other, before, got)
			}
		}
	})

	t.Run("several groups take one value", func(t *testing.T) {
		rev := bump(t, s, "team", "default", "team")
		if rev <= last {
			t.Fatalf("revision %d after %d", rev, last)
		}
		last = rev
		for _, g := range []string{"default", "team"} {
			if got := revisionOf(t, s, g); got != rev {
				t.Errorf("%s has revision %d, want %d", g, got, rev)
			}
		}
	})

	t.Run("twice in one transaction", func(t *testing.T) {
		var first, second int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			if first, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
				return err
			}
			if second, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
				return err
			}
			g, err := tx.GetGroup(ctx, "default")
			if g.Revision != second {
				t.Errorf("inside the transaction default has revision %d, want %d", g.Revision, second)
			}
			return err
		})
		if first <= last || second <= first {
			t.Errorf("revisions %d then %d after %d", first, second, last)
		}
		last = second
		if got := revisionOf(t, s, "default"); got != second {
			t.Errorf("default has revision %d, want %d", got, second)
		}
	})

	t.Run("unknown group", func(t *testing.T) {
		before := revisionOf(t, s, "default")
		err := s.Tx(ctx, func(tx store.Tx) error { _, err := tx.BumpRevision(ctx, wholeGroups("default", "nope")...); return err })
		wantErr(t, "BumpRevision with an unknown group", err, store.ErrNotFound)
		if got := revisionOf(t, s, "default"); got != before {
			t.Errorf("failed bump moved default from %d to %d", before, got)
		}
	})

	t.Run("rolled back", func(t *testing.T) {
		before := revisionOf(t, s, "default")
		err := s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "rolled back bump", err, errBoom)
		if got := revisionOf(t, s, "default"); got != before {
			t.Errorf("rolled back bump moved default from %d to %d", before, got)
		}
		if rev := bump(t, s, "team"); rev <= last {
			t.Errorf("revision %d after a rollback, want above %d", rev, last)
		}
	})
}

type waitResult struct {
	rev int64
	err error
}

// waitAsync runs WaitRevision in a goroutine.
func waitAsync(ctx context.Context, s store.Store, groups []string, after int64) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		rev, err := s.WaitRevision(ctx, groups, after)
		ch <- waitResult{rev, err}
	}()
	return ch
}

// stillWaiting fails if the waiter returns within quiet.
func stillWaiting(t *testing.T, ch <-chan waitResult, why string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("WaitRevision returned (%d, %v) %s", r.rev, r.err, why)
	case <-time.After(quiet):
	}
}

// returned waits up to wake for the waiter's answer.
func returned(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wake):
		t.Fatalf("WaitRevision did not return within %v", wake)
		return waitResult{}
	}
}

func testWaitRevision(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	r1 := bump(t, s, "default")

	t.Run("returns at once when above", func(t *testing.T) {
		for _, after := range []int64{0, r1 - 1} {
			wctx, cancel := context.WithTimeout(ctx, wake)
			rev, err := s.WaitRevision(wctx, []string{"default"}, after)
			cancel()
			if err != nil || rev != r1 {
				t.Errorf("WaitRevision(after %d) = %d, %v; want %d", after, rev, err, r1)
			}
		}
	})

	t.Run("highest of the groups", func(t *testing.T) {
		r2 := bump(t, s, "team")
		wctx, cancel := context.WithTimeout(ctx, wake)
		defer cancel()
		rev, err := s.WaitRevision(wctx, []string{"default", "team"}, r1)
		if err != nil || rev != r2 {
			t.Errorf("WaitRevision(default, team after %d) = %d, %v; want %d", r1, rev, err, r2)
		}
	})

	t.Run("wakes on commit of the group", func(t *testing.T) {
		cur := revisionOf(t, s, "default")
		wctx, cancel := context.WithTimeout(ctx, 2*wake)
		defer cancel()
		ch := waitAsync(wctx, s, []string{"default"}, cur)
		stillWaiting(t, ch, "before any change")

		bump(t, s, "team")
		stillWaiting(t, ch, "after a bump of another group")

		err := s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "rolled back bump", err, errBoom)
		stillWaiting(t, ch, "after a rolled back bump")

		want := bump(t, s, "default")
		if r := returned(t, ch); r.err != nil || r.rev != want {
			t.Errorf("woken WaitRevision = %d, %v; want %d", r.rev, r.err, want)
		}
	})

	t.Run("wakes every waiter", func(t *testing.T) {
		cur := max(revisionOf(t, s, "default"), revisionOf(t, s, "team"))
		wctx, cancel := context.WithTimeout(ctx, 2*wake)
		defer cancel()
		var chans []<-chan waitResult
		for i := range 6 {
			groups := []string{"default"}
			if i%2 == 1 {
				groups = []string{"team", "default"}
			}
			chans = append(chans, waitAsync(wctx, s, groups, cur))
		}
		time.Sleep(quiet)
		want := bump(t, s, "default")
		for i, ch := range chans {
			if r := returned(t, ch); r.err != nil || r.rev != want {
				t.Errorf("waiter %d: %d, %v; want %d", i, r.rev, r.err, want)
			}
		}
	})

	t.Run("group created later", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 2*wake)
		defer cancel()
		ch := waitAsync(wctx, s, []string{"later"}, 0)
		stillWaiting(t, ch, "for a group that does not exist")
		var want int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "later"}); err != nil {
				return err
			}
			var err error
			want, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "later"})
			return err
		})
		if r := returned(t, ch); r.err != nil || r.rev != want {
			t.Errorf("WaitRevision(later) = %d, %v; want %d", r.rev, r.err, want)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		cur := revisionOf(t, s, "default")
		wctx, cancel := context.WithCancel(ctx)
		ch := waitAsync(wctx, s, []string{"default"}, cur)
		stillWaiting(t, ch, "before the cancel")
		cancel()
		if r := returned(t, ch); !errors.Is(r.err, context.Canceled) {
			t.Errorf("cancelled WaitRevision = %d, %v; want context.Canceled", r.rev, r.err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		cur := revisionOf(t, s, "default")
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.WaitRevision(wctx, []string{"default"}, cur)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitRevision past its deadline: %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > wake {
			t.Errorf("WaitRevision took %v to notice its deadline", d)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		cur := revisionOf(t, s, "default")
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		if rev, err := s.WaitRevision(wctx, []string{"default"}, cur); err == nil {
			t.Errorf("WaitRevision with a cancelled context = %d, nil; want an error", rev)
		}
	})
}
