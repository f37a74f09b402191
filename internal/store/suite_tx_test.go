package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// writeEverything writes one object of every kind, with names ending in
// suffix, bumps group "default" and checks that the transaction reads its own
// writes. It needs seed and service "orders" with route "list" in p1.
func writeEverything(ctx context.Context, t *testing.T, tx store.Tx, suffix string) error {
	t.Helper()
	u := spec.User{Username: "user" + suffix, Role: "admin"}
	if err := tx.CreateUser(ctx, &u, "hash"); err != nil {
		return err
	}
	if err := tx.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: "hash" + suffix, Name: "session"}); err != nil {
		return err
	}
	if err := tx.CreateProject(ctx, &spec.Project{ID: "proj" + suffix, Name: "P"}); err != nil {
		return err
	}
	if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "group" + suffix}); err != nil {
		return err
	}
	if err := tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "p1", Name: "up" + suffix}); err != nil {
		return err
	}
	svc := spec.Service{ProjectID: "p1", Name: "svc" + suffix}
	if err := tx.CreateService(ctx, &svc); err != nil {
		return err
	}
	r := spec.Route{ServiceID: svc.ID, Name: "r"}
	if err := tx.CreateRoute(ctx, &r); err != nil {
		return err
	}
	svc.Routes = []spec.Route{r}
	if err := tx.CreateVersion(ctx, &spec.Version{ProjectID: "p1", ServiceID: svc.ID, Version: "1.0.0", Service: svc}); err != nil {
		return err
	}
	if err := tx.PutDeployment(ctx, &spec.Deployment{Group: "default", ProjectID: "p1", ServiceID: svc.ID, Version: "1.0.0"}); err != nil {
		return err
	}
	if err := tx.AddHistory(ctx, &spec.HistoryEvent{ProjectID: "p1", ServiceID: svc.ID, Group: "default", Action: "publish", Version: "1.0.0"}); err != nil {
		return err
	}
	if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: "user" + suffix, Action: "everything", Resource: "/"}); err != nil {
		return err
	}
	if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
		return err
	}
	// Changes to objects that existed before.
	if err := tx.UpdateProject(ctx, &spec.Project{ID: "p1", Name: "changed" + suffix}); err != nil {
		return err
	}
	orders, err := tx.GetService(ctx, "p1", "orders")
	if err != nil {
		return err
	}
	list, err := tx.GetRoute(ctx, orders.ID, "list")
	if err != nil {
		return err
	}
	if err := tx.DeleteRoute(ctx, orders.ID, list.ID); err != nil {
		return err
	}
	// Reads see the writes.
	if _, err := tx.GetDeployment(ctx, "default", svc.ID); err != nil {
		return fmt.Errorf("own deployment not visible: %w", err)
	}
	if _, _, err := tx.TokenByHash(ctx, "hash"+suffix); err != nil {
		return fmt.Errorf("own token not visible: %w", err)
	}
	return nil
}

// state is a summary of what is committed, to compare before and after.
type state struct {
	projects, groups, users, audit, upstreams, services, deployments, routes, history int
	revision                                                                          int64
	p1Name                                                                            string
}

func readState(t *testing.T, s store.Store, orders string) state {
	t.Helper()
	var st state
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		all := store.ListQuery{PageSize: 500}
		if _, st.projects, err = tx.ListProjects(ctx, all); err != nil {
			return err
		}
		if _, st.groups, err = tx.ListGroups(ctx, all); err != nil {
			return err
		}
		if st.users, err = tx.CountUsers(ctx); err != nil {
			return err
		}
		if _, st.audit, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, all); err != nil {
			return err
		}
		if _, st.upstreams, err = tx.ListUpstreams(ctx, "p1", all); err != nil {
			return err
		}
		if _, st.services, err = tx.ListServices(ctx, "p1", all); err != nil {
			return err
		}
		deps, err := tx.ListDeploymentsByGroup(ctx, "default")
		if err != nil {
			return err
		}
		st.deployments = len(deps)
		routes, err := tx.ListRoutes(ctx, orders)
		if err != nil {
			return err
		}
		st.routes = len(routes)
		if _, st.history, err = tx.ListHistory(ctx, orders, all); err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, "default")
		if err != nil {
			return err
		}
		st.revision = g.Revision
		p, err := tx.GetProject(ctx, "p1")
		st.p1Name = p.Name
		return err
	})
	return st
}

func testTxSemantics(t *testing.T, s store.Store) {
	ids := seed(t, s)
	orders := newService(t, s, "p1", "orders", "list")
	freeze(t, s, orders, "1.0.0")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateUser(ctx, &spec.User{Username: "alice", Role: "admin"}, "x")
	})
	ctx := testCtx(t)
	before := readState(t, s, orders.ID)

	t.Run("error rolls back everything", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error {
			if err := writeEverything(ctx, t, tx, "-x"); err != nil {
				t.Errorf("writeEverything: %v", err)
				return err
			}
			return fmt.Errorf("late failure: %w", errBoom)
		})
		wantErr(t, "Tx", err, errBoom)
		if got := readState(t, s, orders.ID); got != before {
			t.Errorf("after a rolled back transaction:\n got %+v\nwant %+v", got, before)
		}
		// Nothing half-written blocks doing it all again.
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return writeEverything(ctx, t, tx, "-x") })
		after := readState(t, s, orders.ID)
		if after.projects != before.projects+1 || after.audit != before.audit+1 || after.routes != before.routes-1 ||
			after.revision <= before.revision || after.p1Name != "changed-x" {
			t.Errorf("after the committed retry:\n got %+v\nfrom %+v", after, before)
		}
		before = after
	})

	t.Run("a failing store call fails the transaction", func(t *testing.T) {
		err := s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.CreateProject(ctx, &spec.Project{ID: "fresh", Name: "fresh"}); err != nil {
				return err
			}
			return tx.CreateProject(ctx, &spec.Project{ID: "p1", Name: "again"})
		})
		wantErr(t, "Tx", err, store.ErrConflict)
		err = s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "fresh"); return err })
		wantErr(t, "project of the failed transaction", err, store.ErrNotFound)
	})

	t.Run("panic rolls back and propagates", func(t *testing.T) {
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			_ = s.Tx(ctx, func(tx store.Tx) error {
				if err := tx.CreateProject(ctx, &spec.Project{ID: "panicky", Name: "p"}); err != nil {
					t.Errorf("CreateProject: %v", err)
				}
				panic("kaboom")
			})
		}()
		if recovered != "kaboom" {
			t.Errorf("recovered %v, want the panic of fn", recovered)
		}
		// The store is still usable, and the write is gone.
		err := s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "panicky"); return err })
		wantErr(t, "project of the panicked transaction", err, store.ErrNotFound)
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := s.Tx(cctx, func(tx store.Tx) error {
			return tx.CreateProject(cctx, &spec.Project{ID: "cancelled", Name: "c"})
		})
		if err == nil {
			t.Errorf("Tx with a cancelled context succeeded")
		}
		err = s.Tx(ctx, func(tx store.Tx) error { _, err := tx.GetProject(ctx, "cancelled"); return err })
		wantErr(t, "project of the cancelled transaction", err, store.ErrNotFound)
	})

	t.Run("sentinels", func(t *testing.T) {
		if got := readState(t, s, orders.ID); got != before {
			t.Fatalf("state moved:\n got %+v\nwant %+v", got, before)
		}
		cases := []struct {
			name string
			fn   func(tx store.Tx) error
			want error
		}{
			{"duplicate user", func(tx store.Tx) error { return tx.CreateUser(ctx, &spec.User{Username: "alice"}, "x") }, store.ErrConflict},
			{"duplicate token", func(tx store.Tx) error {
				u, _, err := tx.UserByName(ctx, "alice")
				if err != nil {
					return err
				}
				return tx.CreateToken(ctx, &store.Token{UserID: u.ID, Hash: "hash-x", Name: "n"})
			}, store.ErrConflict},
			{"duplicate project", func(tx store.Tx) error { return tx.CreateProject(ctx, &spec.Project{ID: "p1"}) }, store.ErrConflict},
			{"duplicate group", func(tx store.Tx) error { return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "team"}) }, store.ErrConflict},
			{"duplicate upstream", func(tx store.Tx) error { return tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "p1", Name: "up"}) }, store.ErrConflict},
			{"duplicate service", func(tx store.Tx) error { return tx.CreateService(ctx, &spec.Service{ProjectID: "p1", Name: "orders"}) }, store.ErrConflict},
			{"duplicate route", func(tx store.Tx) error { return tx.CreateRoute(ctx, &spec.Route{ServiceID: orders.ID, Name: "r2"}) }, nil},
			{"duplicate route name", func(tx store.Tx) error { return tx.CreateRoute(ctx, &spec.Route{ServiceID: orders.ID, Name: "r2"}) }, store.ErrConflict},
			{"duplicate version", func(tx store.Tx) error {
				return tx.CreateVersion(ctx, &spec.Version{ProjectID: "p1", ServiceID: orders.ID, Version: "1.0.0"})
			}, store.ErrConflict},
			{"upstream in use", func(tx store.Tx) error {
				if err := tx.CreateService(ctx, &spec.Service{ProjectID: "p1", Name: "user", UpstreamID: ids.upstream}); err != nil {
					return err
				}
				return tx.DeleteUpstream(ctx, "p1", ids.upstream)
			}, store.ErrConflict},
			{"get user", func(tx store.Tx) error { _, err := tx.GetUser(ctx, "nope"); return err }, store.ErrNotFound},
			{"user by name", func(tx store.Tx) error { _, _, err := tx.UserByName(ctx, "nope"); return err }, store.ErrNotFound},
			{"token", func(tx store.Tx) error { _, _, err := tx.TokenByHash(ctx, "nope"); return err }, store.ErrNotFound},
			{"delete token", func(tx store.Tx) error { return tx.DeleteToken(ctx, "nope") }, store.ErrNotFound},
			{"get project", func(tx store.Tx) error { _, err := tx.GetProject(ctx, "nope"); return err }, store.ErrNotFound},
			{"get group", func(tx store.Tx) error { _, err := tx.GetGroup(ctx, "nope"); return err }, store.ErrNotFound},
			{"get upstream", func(tx store.Tx) error { _, err := tx.GetUpstream(ctx, "p1", "nope"); return err }, store.ErrNotFound},
			{"get service", func(tx store.Tx) error { _, err := tx.GetService(ctx, "p1", "nope"); return err }, store.ErrNotFound},
			{"get route", func(tx store.Tx) error { _, err := tx.GetRoute(ctx, orders.ID, "nope"); return err }, store.ErrNotFound},
			{"get version", func(tx store.Tx) error { _, err := tx.GetVersion(ctx, orders.ID, "0.0.0"); return err }, store.ErrNotFound},
			{"get deployment", func(tx store.Tx) error { _, err := tx.GetDeployment(ctx, "team", orders.ID); return err }, store.ErrNotFound},
			{"update project", func(tx store.Tx) error { return tx.UpdateProject(ctx, &spec.Project{ID: "nope"}) }, store.ErrNotFound},
			{"update group", func(tx store.Tx) error { return tx.UpdateGroup(ctx, &spec.GatewayGroup{Name: "nope"}) }, store.ErrNotFound},
			{"delete service", func(tx store.Tx) error { return tx.DeleteService(ctx, "p1", "nope") }, store.ErrNotFound},
			{"delete route", func(tx store.Tx) error { return tx.DeleteRoute(ctx, orders.ID, "nope") }, store.ErrNotFound},
			{"delete deployment", func(tx store.Tx) error { return tx.DeleteDeployment(ctx, "team", orders.ID) }, store.ErrNotFound},
			{"bump unknown group", func(tx store.Tx) error { _, err := tx.BumpRevision(ctx, wholeGroups("nope")...); return err }, store.ErrNotFound},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := s.Tx(ctx, c.fn)
				wantErr(t, c.name, err, c.want)
				other := store.ErrNotFound
				if c.want == store.ErrNotFound {
					other = store.ErrConflict
				}
				if c.want != nil && errors.Is(err, other) {
					t.Errorf("%s: error %v also wraps %v", c.name, err, other)
				}
			})
		}
	})
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	const writers, perWriter = 8, 10
	rev0 := revisionOf(t, s, "default")

	// A watcher follows the revision while the writers run.
	var target atomic.Int64
	watched := make(chan error, 1)
	go func() {
		last := rev0
		for {
			if tg := target.Load(); tg != 0 && last >= tg {
				watched <- nil
				return
			}
			wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			rev, err := s.WaitRevision(wctx, []string{"default", "team"}, last)
			cancel()
			switch {
			case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
				continue
			case err != nil:
				watched <- err
				return
			case rev <= last:
				watched <- fmt.Errorf("WaitRevision after %d returned %d", last, rev)
				return
			}
			last = rev
		}
	}()

	// Every writer reads, inserts, appends and bumps; every third
	// transaction of each writer fails after writing and must leave nothing.
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, writers*perWriter)
	revs := make(chan int64, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range perWriter {
				fail := i%3 == 2
				var rev int64
				err := s.Tx(ctx, func(tx store.Tx) error {
					if _, err := tx.GetProject(ctx, "p1"); err != nil {
						return err
					}
					if err := tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "p1", Name: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
						return err
					}
					if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: fmt.Sprintf("w%d", w), Action: "write", Resource: "/"}); err != nil {
						return err
					}
					var err error
					if rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
						return err
					}
					if fail {
						return errBoom
					}
					return nil
				})
				if fail {
					if !errors.Is(err, errBoom) {
						errs <- fmt.Errorf("writer %d tx %d: got %v, want the rollback", w, i, err)
					}
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d tx %d: %w", w, i, err)
					continue
				}
				revs <- rev
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(revs)
	for err := range errs {
		t.Error(err)
	}

	committed := 0
	for i := range perWriter {
		if i%3 != 2 {
			committed++
		}
	}
	committed *= writers
	seen := map[int64]bool{}
	var highest int64
	for rev := range revs {
		if seen[rev] {
			t.Errorf("revision %d handed out twice", rev)
		}
		seen[rev] = true
		highest = max(highest, rev)
	}
	if len(seen) != committed {
		t.Errorf("%d distinct revisions, want %d", len(seen), committed)
	}
	if got := revisionOf(t, s, "default"); got != highest {
		t.Errorf("default has revision %d, want the highest handed out, %d", got, highest)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, ups, err := tx.ListUpstreams(ctx, "p1", store.ListQuery{})
		if err != nil {
			return err
		}
		if ups != committed+1 { // the seed's "up"
			t.Errorf("%d upstreams in p1, want %d", ups, committed+1)
		}
		events, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{PageSize: 500})
		if err != nil {
			return err
		}
		ids := map[int64]bool{}
		for _, e := range events {
			ids[e.ID] = true
		}
		if total != committed || len(ids) != committed {
			t.Errorf("audit: %d events with %d distinct ids, want %d", total, len(ids), committed)
		}
		return nil
	})

	target.Store(highest)
	select {
	case err := <-watched:
		if err != nil {
			t.Errorf("watcher: %v", err)
		}
	case <-time.After(wake):
		t.Errorf("watcher did not see revision %d within %v", highest, wake)
	}

	t.Run("racing on one name", func(t *testing.T) {
		const racers = 6
		results := make(chan error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				results <- s.Tx(ctx, func(tx store.Tx) error {
					return tx.CreateProject(ctx, &spec.Project{ID: "contested", Name: "c"})
				})
			})
		}
		close(start)
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("loser got %v, want ErrConflict", err)
			}
		}
		if won != 1 {
			t.Errorf("%d transactions created the project, want exactly 1", won)
		}
	})
}
