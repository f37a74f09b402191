package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// viewWait bounds how long a test lets a View or a Tx take beside the
// other before it calls that blocking.
const viewWait = 5 * time.Second

func testView(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	countProjects := func(ctx context.Context, tx store.Tx) (int, error) {
		_, total, err := tx.ListProjects(ctx, store.ListQuery{})
		return total, err
	}
	// inOther runs fn on its own goroutine and fails the test unless it
	// ends within viewWait.
	inOther := func(t *testing.T, what string, fn func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			wantErr(t, what, err, nil)
		case <-time.After(viewWait):
			t.Fatalf("%s did not end within %v: blocked by the other transaction", what, viewWait)
		}
	}

	t.Run("a write fails", func(t *testing.T) {
		before := revisionOf(t, s, "default")
		writes := []struct {
			what string
			fn   func(tx store.Tx) error
		}{
			{"CreateProject", func(tx store.Tx) error {
				return tx.CreateProject(ctx, &spec.Project{ID: "from-view", Name: "from view"})
			}},
			{"UpdateGroup", func(tx store.Tx) error {
				return tx.UpdateGroup(ctx, &spec.GatewayGroup{Name: "default", PathPrefix: "/from-view"})
			}},
			{"BumpRevision", func(tx store.Tx) error { _, err := tx.BumpRevision(ctx, wholeGroups("default")...); return err }},
			{"ResetRouteShapes", func(tx store.Tx) error { return tx.ResetRouteShapes(ctx, "default", nil) }},
			{"AddAudit", func(tx store.Tx) error {
				return tx.AddAudit(ctx, &spec.AuditEvent{Actor: "viewer", Action: "x", Resource: "y", At: time.Now().UTC()})
			}},
		}
		for _, w := range writes {
			if err := s.View(ctx, w.fn); err == nil {
				t.Errorf("%s inside View: no error", w.what)
			}
		}
		// A write whose error fn swallows must not commit either.
		err := s.View(ctx, func(tx store.Tx) error {
			_ = tx.CreateProject(ctx, &spec.Project{ID: "swallowed", Name: "swallowed"})
			return nil
		})
		wantErr(t, "View swallowing a write's error", err, nil)

		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, id := range []string{"from-view", "swallowed"} {
				_, err := tx.GetProject(ctx, id)
				wantErr(t, "project written in a View", err, store.ErrNotFound)
			}
			g, err := tx.GetGroup(ctx, "default")
			if err != nil {
				return err
			}
			if g.PathPrefix != "" || g.Revision != before {
				t.Errorf("group after writes in Views = prefix %q, revision %d; want \"\", %d", g.PathPrefix, g.Revision, before)
			}
			_, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{})
			if total != 0 {
				t.Errorf("audit entries after a write in a View = %d, want 0", total)
			}
			return err
		})
	})

	t.Run("fn's error comes back as is", func(t *testing.T) {
		err := s.View(ctx, func(tx store.Tx) error { return fmt.Errorf("reading: %w", errBoom) })
		wantErr(t, "View", err, errBoom)
		err = s.View(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "nope"); return err })
		wantErr(t, "View", err, store.ErrNotFound)
	})

	t.Run("sees committed data", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateProject(ctx, &spec.Project{ID: "committed", Name: "committed"})
		})
		err := s.View(ctx, func(tx store.Tx) error {
			p, err := tx.GetProject(ctx, "committed")
			if err == nil && p.Name != "committed" {
				t.Errorf("project read in a View = %+v", p)
			}
			return err
		})
		wantErr(t, "View of a committed project", err, nil)

		var snap spec.Snapshot
		err = s.View(ctx, func(tx store.Tx) error {
			var err error
			snap, err = tx.Snapshot(ctx, []string{"default", "team"})
			return err
		})
		wantErr(t, "Snapshot in a View", err, nil)
		if len(snap.Groups) != 2 {
			t.Errorf("Snapshot in a View has %d groups, want 2", len(snap.Groups))
		}
	})

	t.Run("a View beside an open Tx does not block", func(t *testing.T) {
		wrote, release := make(chan struct{}), make(chan struct{})
		txDone := make(chan error, 1)
		go func() {
			txDone <- s.Tx(ctx, func(tx store.Tx) error {
				if err := tx.CreateProject(ctx, &spec.Project{ID: "pending", Name: "pending"}); err != nil {
					close(wrote)
					return err
				}
				close(wrote)
				<-release
				return nil
			})
		}()
		// Let the writer go even when the test stops early, so it ends.
		released := false
		letGo := func() {
			if !released {
				released = true
				close(release)
			}
		}
		defer letGo()
		<-wrote
		// The writer holds its transaction open: a View still reads, and
		// sees only what was committed.
		inOther(t, "View beside an open Tx", func() error {
			return s.View(ctx, func(tx store.Tx) error {
				if _, err := tx.GetProject(ctx, "p1"); err != nil {
					return err
				}
				if _, err := tx.GetProject(ctx, "pending"); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("uncommitted project read in a View: got error %v, want not found", err)
				}
				return nil
			})
		})
		letGo()
		wantErr(t, "the writer's Tx", <-txDone, nil)
		err := s.View(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "pending"); return err })
		wantErr(t, "View after the writer committed", err, nil)
	})

	t.Run("a Tx beside an open View does not block, and the View keeps its snapshot", func(t *testing.T) {
		var first, again int
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			if first, err = countProjects(ctx, tx); err != nil {
				return err
			}
			inOther(t, "Tx beside an open View", func() error {
				return s.Tx(ctx, func(tx store.Tx) error {
					return tx.CreateProject(ctx, &spec.Project{ID: "beside-view", Name: "beside view"})
				})
			})
			again, err = countProjects(ctx, tx)
			return err
		})
		wantErr(t, "View", err, nil)
		if again != first {
			t.Errorf("projects counted twice in one View: %d, then %d after a commit", first, again)
		}
		var after int
		err = s.View(ctx, func(tx store.Tx) error {
			var err error
			after, err = countProjects(ctx, tx)
			return err
		})
		wantErr(t, "View after the commit", err, nil)
		if after != first+1 {
			t.Errorf("projects in a later View = %d, want %d", after, first+1)
		}
	})
}
