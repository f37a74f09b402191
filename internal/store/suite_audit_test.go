package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testAuditFilter checks every field of store.AuditFilter on ListAudit and
// ScanAudit, and PruneAudit's cutoff.
func testAuditFilter(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// Project "a" and "ab" share a prefix: a resource filter on
	// /projects/a must not reach ab's events.
	events := []spec.AuditEvent{
		{Actor: "alice", Action: "service.create", Resource: "/projects/a/services/s1", At: at(0)},                       // 0
		{Actor: "alice", Action: "service.update", Resource: "/projects/a/services/s1", At: at(1)},                       // 1
		{Actor: "bob", Action: "route.create", Resource: "/projects/a/services/s1/routes/r1", At: at(2)},                 // 2
		{Actor: "bob", Action: "service.create", Resource: "/projects/ab/services/s2", At: at(3)},                        // 3
		{Actor: "carol", Action: "auth.login", Resource: "/users/u1", At: at(4)},                                         // 4: a system event
		{Actor: "alice", Action: "services.legacy", Resource: "/projects/b/services/s3", At: at(5)},                      // 5: not of the service. family
		{Actor: "alice", Action: "upstream.create", Resource: "/projects/a", At: at(6)},                                  // 6: the project itself
		{Actor: "bob", Action: "release.publish", Resource: "/projects/b/services/s3", At: at(7)},                        // 7
		{Actor: "alice2", Action: "project.update", Resource: "/projects/a2", Project: "a2", At: at(8)},                  // 8: project given
		{Actor: "dave", Action: "gateway_group.update", Resource: "/gateway-groups/default", At: at(9)},                  // 9: a system event
		{Actor: "alice", Action: "service.delete", Resource: "/projectsX/a/services/s1", At: at(10)},                     // 10: no project
		{Actor: "bob", Action: "credential.create", Resource: "/applications/x/credentials/y", Project: "b", At: at(11)}, // 11
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range events {
			if err := tx.AddAudit(ctx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})

	// AddAudit takes the project from a resource under /projects/{p}
	// when none is given, and keeps one given.
	wantProjects := []string{"a", "a", "a", "ab", "", "b", "a", "b", "a2", "", "", "b"}
	for i, e := range events {
		if e.Project != wantProjects[i] {
			t.Errorf("event %d (%s): project %q, want %q", i, e.Resource, e.Project, wantProjects[i])
		}
	}

	all := store.AuditFilter{AllProjects: true}
	pick := func(idx ...int) []spec.AuditEvent { // newest first, as ListAudit answers
		out := []spec.AuditEvent{}
		for i := len(idx) - 1; i >= 0; i-- {
			out = append(out, events[idx[i]])
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		q    string
		want []spec.AuditEvent
	}{
		{"everything", all, "", pick(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)},
		{"actor is exact", store.AuditFilter{AllProjects: true, Actor: "alice"}, "", pick(0, 1, 5, 6, 10)},
		{"actor, no substring", store.AuditFilter{AllProjects: true, Actor: "ali"}, "", pick()},
		{"action exact", store.AuditFilter{AllProjects: true, Action: "service.create"}, "", pick(0, 3)},
		{"action without dot is exact", store.AuditFilter{AllProjects: true, Action: "service"}, "", pick()},
		{"action family", store.AuditFilter{AllProjects: true, Action: "service."}, "", pick(0, 1, 3, 10)},
		{"action family is a prefix only", store.AuditFilter{AllProjects: true, Action: "create."}, "", pick()},
		{"resource and below", store.AuditFilter{AllProjects: true, Resource: "/projects/a"}, "", pick(0, 1, 2, 6)},
		{"resource with a slash", store.AuditFilter{AllProjects: true, Resource: "/projects/a/"}, "", pick(0, 1, 2, 6)},
		{"resource of one object", store.AuditFilter{AllProjects: true, Resource: "/projects/a/services/s1"}, "", pick(0, 1, 2)},
		{"resource, no sibling by prefix", store.AuditFilter{AllProjects: true, Resource: "/projects/a/services/s"}, "", pick()},
		{"project exact", store.AuditFilter{AllProjects: true, Project: "a"}, "", pick(0, 1, 2, 6)},
		{"project ab is not a", store.AuditFilter{AllProjects: true, Project: "ab"}, "", pick(3)},
		{"visible projects", store.AuditFilter{Projects: []string{"a", "b"}}, "", pick(0, 1, 2, 5, 6, 7, 11)},
		{"visible projects hide system events", store.AuditFilter{Projects: []string{"x"}}, "", pick()},
		{"no visible project: nothing", store.AuditFilter{}, "", pick()},
		{"project outside the visible ones", store.AuditFilter{Projects: []string{"a"}, Project: "b"}, "", pick()},
		{"project among the visible ones", store.AuditFilter{Projects: []string{"a", "b"}, Project: "b"}, "", pick(5, 7, 11)},
		{"since is inclusive", store.AuditFilter{AllProjects: true, Since: at(9)}, "", pick(9, 10, 11)},
		{"until is exclusive", store.AuditFilter{AllProjects: true, Until: at(2)}, "", pick(0, 1)},
		{"since and until", store.AuditFilter{AllProjects: true, Since: at(3), Until: at(5)}, "", pick(3, 4)},
		{"after id", store.AuditFilter{AllProjects: true, AfterID: events[9].ID}, "", pick(10, 11)},
		{"q", store.AuditFilter{AllProjects: true, Q: "LOGIN"}, "", pick(4)},
		{"q from the list query", all, "gateway-groups", pick(9)},
		{"every field at once", store.AuditFilter{Projects: []string{"a", "ab"}, Actor: "bob", Action: "route.", Resource: "/projects/a",
			Project: "a", Since: at(1), Until: at(3), AfterID: events[0].ID, Q: "r1"}, "", pick(2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				got, total, err := tx.ListAudit(ctx, tc.f, store.ListQuery{Q: tc.q, PageSize: 100})
				wantErr(t, "ListAudit", err, nil)
				if diff := cmp.Diff(tc.want, got); diff != "" || total != len(tc.want) {
					t.Errorf("ListAudit total %d, want %d (-want +got):\n%s", total, len(tc.want), diff)
				}
				// ScanAudit selects the same events, oldest first (it
				// has no list query: its filter carries q).
				fs := tc.f
				if fs.Q == "" {
					fs.Q = tc.q
				}
				var scanned []spec.AuditEvent
				n, err := tx.ScanAudit(ctx, fs, 100, func(e spec.AuditEvent) error {
					scanned = append(scanned, e)
					return nil
				})
				wantErr(t, "ScanAudit", err, nil)
				oldest := make([]spec.AuditEvent, 0, len(tc.want))
				for i := len(tc.want) - 1; i >= 0; i-- {
					oldest = append(oldest, tc.want[i])
				}
				if diff := cmp.Diff(oldest, scanned, cmpopts.EquateEmpty()); diff != "" || n != len(oldest) {
					t.Errorf("ScanAudit answered %d (-want +got):\n%s", n, diff)
				}
				return nil
			})
		})
	}

	t.Run("paging with a filter", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true, Actor: "alice"}, store.ListQuery{Page: 2, PageSize: 2})
			wantErr(t, "ListAudit", err, nil)
			if diff := cmp.Diff(pick(1, 5), got); diff != "" || total != 5 {
				t.Errorf("page 2 of alice's events, total %d (-want +got):\n%s", total, diff)
			}
			return nil
		})
	})

	t.Run("scan limit and continuation", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var ids []int64
			f := all
			for {
				n, err := tx.ScanAudit(ctx, f, 5, func(e spec.AuditEvent) error {
					ids = append(ids, e.ID)
					f.AfterID = e.ID
					return nil
				})
				wantErr(t, "ScanAudit", err, nil)
				if n > 5 {
					t.Fatalf("ScanAudit with limit 5 called fn %d times", n)
				}
				if n < 5 {
					break
				}
			}
			if len(ids) != len(events) {
				t.Fatalf("scanning by pages of 5 saw %d events, want %d", len(ids), len(events))
			}
			for i, id := range ids {
				if id != events[i].ID {
					t.Errorf("scan %d: id %d, want %d (oldest first)", i, id, events[i].ID)
				}
			}
			boom := errors.New("boom")
			calls := 0
			n, err := tx.ScanAudit(ctx, all, 100, func(spec.AuditEvent) error {
				calls++
				return boom
			})
			if !errors.Is(err, boom) || calls != 1 || n != 1 {
				t.Errorf("ScanAudit with a failing fn: n %d, calls %d, err %v; want 1, 1, boom", n, calls, err)
			}
			return nil
		})
	})

	t.Run("prune", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			n, err := tx.PruneAudit(ctx, at(4))
			wantErr(t, "PruneAudit", err, nil)
			if n != 4 {
				t.Errorf("PruneAudit before hour 4 removed %d, want 4", n)
			}
			got, total, err := tx.ListAudit(ctx, all, store.ListQuery{PageSize: 100})
			wantErr(t, "ListAudit", err, nil)
			if diff := cmp.Diff(pick(4, 5, 6, 7, 8, 9, 10, 11), got); diff != "" || total != 8 {
				t.Errorf("after the prune, total %d (-want +got):\n%s", total, diff)
			}
			n, err = tx.PruneAudit(ctx, at(4))
			wantErr(t, "PruneAudit again", err, nil)
			if n != 0 {
				t.Errorf("PruneAudit again removed %d, want 0", n)
			}
			return nil
		})
	})
}
