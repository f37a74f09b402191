package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// change is a RevisionChange of some services of a group.
func change(group string, services ...string) store.RevisionChange {
	return store.RevisionChange{Group: group, Services: services}
}

// bumpChanges commits BumpRevision(changes) in its own transaction.
func bumpChanges(t *testing.T, s store.Store, changes ...store.RevisionChange) int64 {
	t.Helper()
	var rev int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		rev, err = tx.BumpRevision(ctx, changes...)
		return err
	})
	return rev
}

// changedSince is ChangedSince in a read-only View, as the feed calls it.
type changed struct {
	services []string
	whole    bool
}

func changedSince(t *testing.T, s store.Store, group string, after int64, maxServices int) changed {
	t.Helper()
	var c changed
	ctx := testCtx(t)
	err := s.View(ctx, func(tx store.Tx) error {
		var err error
		c.services, c.whole, err = tx.ChangedSince(ctx, group, after, maxServices)
		return err
	})
	wantErr(t, fmt.Sprintf("ChangedSince(%s, %d, %d)", group, after, maxServices), err, nil)
	return c
}

// wantChanged fails unless ChangedSince answers the services (whole false),
// or whole when services is nil and whole is set.
func wantChanged(t *testing.T, s store.Store, group string, after int64, maxServices int, want changed) {
	t.Helper()
	got := changedSince(t, s, group, after, maxServices)
	if got.whole != want.whole || !slices.Equal(got.services, want.services) || (got.whole && got.services != nil) {
		t.Errorf("ChangedSince(%s, after %d, max %d) = %q whole %v; want %q whole %v",
			group, after, maxServices, got.services, got.whole, want.services, want.whole)
	}
}

var whole = changed{whole: true}

func services(ids ...string) changed { return changed{services: ids} }

func testChangeLog(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	const many = 100

	// A group's log starts after its creation: a gateway that holds
	// revision 0 (nothing yet) reloads it whole once.
	t.Run("a new group has changed nothing", func(t *testing.T) {
		wantChanged(t, s, "default", 0, many, changed{})
	})
	r0 := bumpChanges(t, s, change("default"), change("team"))
	wantChanged(t, s, "default", 0, many, whole)

	r1 := bumpChanges(t, s, change("default", "svc-a"))
	t.Run("one service", func(t *testing.T) {
		wantChanged(t, s, "default", r0, many, services("svc-a"))
		wantChanged(t, s, "default", r1, many, changed{})
	})

	r2 := bumpChanges(t, s, change("default", "svc-c", "svc-b", "svc-c"))
	t.Run("several services, sorted and unique", func(t *testing.T) {
		wantChanged(t, s, "default", r1, many, services("svc-b", "svc-c"))
		wantChanged(t, s, "default", r0, many, services("svc-a", "svc-b", "svc-c"))
		wantChanged(t, s, "default", r2, many, changed{})
	})

	r3 := bumpChanges(t, s, change("default", "svc-d"), change("default", "svc-c"))
	t.Run("changes of one group merge", func(t *testing.T) {
		if got := revisionOf(t, s, "default"); got != r3 {
			t.Fatalf("default has revision %d, want %d", got, r3)
		}
		wantChanged(t, s, "default", r2, many, services("svc-c", "svc-d"))
	})

	t.Run("maxServices", func(t *testing.T) {
		wantChanged(t, s, "default", r0, 4, services("svc-a", "svc-b", "svc-c", "svc-d"))
		wantChanged(t, s, "default", r0, 3, whole)
		wantChanged(t, s, "default", r2, 1, whole)
		wantChanged(t, s, "default", r2, 0, whole)
		wantChanged(t, s, "default", r2, -1, whole)
		wantChanged(t, s, "default", r3, 0, changed{})
	})

	teamBefore := revisionOf(t, s, "team")
	r4 := bumpChanges(t, s, change("team", "svc-x"), change("default", "svc-a"))
	t.Run("several groups", func(t *testing.T) {
		for _, g := range []string{"default", "team"} {
			if got := revisionOf(t, s, g); got != r4 {
				t.Errorf("%s has revision %d, want %d", g, got, r4)
			}
		}
		wantChanged(t, s, "team", teamBefore, many, services("svc-x"))
		wantChanged(t, s, "default", r3, many, services("svc-a"))
		// Another group's changes never show.
		wantChanged(t, s, "default", r0, many, services("svc-a", "svc-b", "svc-c", "svc-d"))
	})

	t.Run("after above the current revision", func(t *testing.T) {
		wantChanged(t, s, "default", r4+1, many, whole)
		wantChanged(t, s, "default", r4+1000, many, whole)
	})

	t.Run("missing group", func(t *testing.T) {
		err := s.View(ctx, func(tx store.Tx) error { _, _, err := tx.ChangedSince(ctx, "nope", 0, many); return err })
		wantErr(t, "ChangedSince of a missing group", err, store.ErrNotFound)
	})

	t.Run("rolled back", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error {
			if _, err := tx.BumpRevision(ctx, change("default", "svc-rolled-back")); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "rolled back bump", err, errBoom)
		r := bumpChanges(t, s, change("default", "svc-e"))
		wantChanged(t, s, "default", r4, many, services("svc-e"))
		wantChanged(t, s, "default", r, many, changed{})
	})

	t.Run("whole group", func(t *testing.T) {
		before := revisionOf(t, s, "default")
		rw := bumpChanges(t, s, change("default"))
		wantChanged(t, s, "default", before, many, whole)
		wantChanged(t, s, "default", 0, many, whole)
		wantChanged(t, s, "default", rw, many, changed{})

		// Later service changes are told apart again.
		rs := bumpChanges(t, s, change("default", "svc-f"))
		wantChanged(t, s, "default", rw, many, services("svc-f"))
		wantChanged(t, s, "default", before, many, whole)

		// A whole change merged with service changes is whole; so is an
		// empty service id, and an empty (not nil) list.
		for _, cs := range [][]store.RevisionChange{
			{change("default", "svc-g"), change("default")},
			{change("default", "svc-g", "")},
			{{Group: "default", Services: []string{}}},
		} {
			r := bumpChanges(t, s, cs...)
			wantChanged(t, s, "default", rs, many, whole)
			wantChanged(t, s, "default", r, many, changed{})
			rs = bumpChanges(t, s, change("default", "svc-h"))
			wantChanged(t, s, "default", r, many, services("svc-h"))
		}
	})

	t.Run("a change of too many services is whole", func(t *testing.T) {
		before := revisionOf(t, s, "team")
		var ids []string
		for i := range store.ChangeLogMaxServices + 1 {
			ids = append(ids, fmt.Sprintf("svc-%05d", i))
		}
		bumpChanges(t, s, change("team", ids...))
		wantChanged(t, s, "team", before, len(ids)+10, whole)
		r := bumpChanges(t, s, change("team", ids[:store.ChangeLogMaxServices]...))
		got := changedSince(t, s, "team", r-1, len(ids)+10)
		if got.whole || len(got.services) != store.ChangeLogMaxServices {
			t.Errorf("a change of %d services: %d services, whole %v", store.ChangeLogMaxServices, len(got.services), got.whole)
		}
	})

	t.Run("a group starts complete from its creation", func(t *testing.T) {
		var created int64
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "later"}); err != nil {
				return err
			}
			// The global revision now: every bump named default or team.
			created = max(revisionOfTx(ctx, t, tx, "default"), revisionOfTx(ctx, t, tx, "team"))
			return nil
		})
		wantChanged(t, s, "later", 0, many, changed{})
		r1 := bumpChanges(t, s, change("later", "svc-l1"))
		r2 := bumpChanges(t, s, change("later", "svc-l2"))
		wantChanged(t, s, "later", r1, many, services("svc-l2"))
		wantChanged(t, s, "later", r2, many, changed{})
		// A revision from before the group's first (an earlier group of
		// that name, or this one not yet bumped) is answered whole.
		wantChanged(t, s, "later", created, many, whole)
		wantChanged(t, s, "later", 0, many, whole)
	})

	t.Run("group deletion", func(t *testing.T) {
		old := bumpChanges(t, s, change("later", "svc-old"))
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, "later") })
		err := s.View(ctx, func(tx store.Tx) error { _, _, err := tx.ChangedSince(ctx, "later", 0, many); return err })
		wantErr(t, "ChangedSince of a deleted group", err, store.ErrNotFound)

		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "later"})
		})
		r := bumpChanges(t, s, change("later", "svc-new"))
		// A gateway of the old group reloads the new one whole.
		wantChanged(t, s, "later", old, many, whole)
		wantChanged(t, s, "later", old-1, many, whole)
		wantChanged(t, s, "later", r, many, changed{})
		r2 := bumpChanges(t, s, change("later", "svc-newer"))
		wantChanged(t, s, "later", r, many, services("svc-newer"))
		wantChanged(t, s, "later", r2, many, changed{})
	})

	t.Run("pruning horizon", func(t *testing.T) {
		const keep, every = 5, 5
		store.SetChangeLogBounds(t, keep, every)
		teamRev := revisionOf(t, s, "team")
		type bumped struct {
			rev     int64
			service string
		}
		var log []bumped
		for i := range 3 * every {
			id := fmt.Sprintf("svc-p%02d", i)
			log = append(log, bumped{bumpChanges(t, s, change("default", id)), id})
		}
		last := log[len(log)-1].rev
		horizon := last - last%every - keep // the last prune's
		if horizon <= log[0].rev {
			t.Fatalf("horizon %d is not past the first bump %d", horizon, log[0].rev)
		}
		for i, b := range log {
			want := whole
			if b.rev >= horizon {
				var ids []string
				for _, later := range log[i+1:] {
					ids = append(ids, later.service)
				}
				want = services(ids...)
			}
			wantChanged(t, s, "default", b.rev, many, want)
		}
		// A group the prune found idle keeps answering its own revision,
		// and is whole from older ones.
		wantChanged(t, s, "team", teamRev, many, changed{})
		wantChanged(t, s, "team", teamRev-1, many, whole)
		// A group bumped after the prune answers from its last bump on.
		r := bumpChanges(t, s, change("team", "svc-t"))
		wantChanged(t, s, "team", teamRev, many, whole)
		wantChanged(t, s, "team", r, many, changed{})
	})
}

// revisionOfTx reads a group's revision inside a transaction.
func revisionOfTx(ctx context.Context, t *testing.T, tx store.Tx, group string) int64 {
	t.Helper()
	g, err := tx.GetGroup(ctx, group)
	wantErr(t, "GetGroup "+group, err, nil)
	return g.Revision
}
