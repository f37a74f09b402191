package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// seq returns fmt.Sprintf(format, i) for i in [from, to).
func seq(format string, from, to int) []string {
	out := []string{}
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

func testPaging(t *testing.T, s store.Store) {
	// 25 projects, created in id order so that creation order and id order
	// agree.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range 25 {
			p := spec.Project{ID: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("Project %02d", i), TestGroup: "default", ProductionGroup: "default"}
			if err := tx.CreateProject(ctx, &p); err != nil {
				return err
			}
		}
		return nil
	})
	projects := func(q store.ListQuery) ([]string, int) {
		t.Helper()
		ids := []string{}
		var total int
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, n, err := tx.ListProjects(ctx, q)
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			total = n
			return err
		})
		return ids, total
	}

	t.Run("pages", func(t *testing.T) {
		cases := []struct {
			name  string
			q     store.ListQuery
			want  []string
			total int
		}{
			{"defaults", store.ListQuery{}, seq("p%02d", 0, 20), 25},
			{"page 0 is page 1", store.ListQuery{Page: 0, PageSize: 5}, seq("p%02d", 0, 5), 25},
			{"second default page", store.ListQuery{Page: 2}, seq("p%02d", 20, 25), 25},
			{"past the end", store.ListQuery{Page: 3}, []string{}, 25},
			{"last partial page", store.ListQuery{Page: 3, PageSize: 10}, seq("p%02d", 20, 25), 25},
			{"middle page", store.ListQuery{Page: 2, PageSize: 10}, seq("p%02d", 10, 20), 25},
			{"filter", store.ListQuery{Q: "project 1"}, seq("p%02d", 10, 20), 10},
			{"filter is case-insensitive", store.ListQuery{Q: "PROJECT 2"}, seq("p%02d", 20, 25), 5},
			{"filter and page", store.ListQuery{Q: "project 1", Page: 2, PageSize: 4}, seq("p%02d", 14, 18), 10},
			{"filter matches nothing", store.ListQuery{Q: "zzz"}, []string{}, 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, total := projects(c.q)
				if diff := cmp.Diff(c.want, got); diff != "" || total != c.total {
					t.Errorf("ListProjects(%+v) total %d, want %d (-want +got):\n%s", c.q, total, c.total, diff)
				}
			})
		}
	})

	t.Run("walking the pages sees everything once", func(t *testing.T) {
		var all []string
		for page := 1; page <= 10; page++ {
			got, total := projects(store.ListQuery{Page: page, PageSize: 7})
			if total != 25 {
				t.Fatalf("page %d: total %d, want 25", page, total)
			}
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
		}
		if diff := cmp.Diff(seq("p%02d", 0, 25), all); diff != "" {
			t.Errorf("pages of 7 (-want +got):\n%s", diff)
		}
	})

	t.Run("LIKE wildcards in the filter are literal", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for id, name := range map[string]string{"pct": "100% pure", "pctx": "100x pure", "und": "a_b", "undx": "axb", "bsl": `c\d`} {
				if err := tx.CreateProject(ctx, &spec.Project{ID: id, Name: name}); err != nil {
					return err
				}
			}
			return nil
		})
		for q, want := range map[string]string{"0%": "pct", "a_b": "und", `c\d`: "bsl"} {
			got, total := projects(store.ListQuery{Q: q})
			if diff := cmp.Diff([]string{want}, got); diff != "" || total != 1 {
				t.Errorf("ListProjects Q=%q total %d (-want +got):\n%s", q, total, diff)
			}
		}
	})

	t.Run("page size is capped", func(t *testing.T) {
		const n = 501
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for i := range n {
				if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: "bulk", Action: "a", Resource: fmt.Sprintf("/r/%d", i)}); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{PageSize: 10000})
			wantErr(t, "ListAudit", err, nil)
			if len(got) != 500 || total != n {
				t.Errorf("ListAudit page size 10000: %d events, total %d; want 500 of %d", len(got), total, n)
			}
			if len(got) > 0 && got[0].Resource != fmt.Sprintf("/r/%d", n-1) {
				t.Errorf("first event %q, want the newest", got[0].Resource)
			}
			got, _, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{PageSize: 10000, Page: 2})
			wantErr(t, "ListAudit page 2", err, nil)
			if len(got) != 1 || got[0].Resource != "/r/0" {
				t.Errorf("ListAudit page 2 of capped pages = %v, want only the oldest", got)
			}
			got, _, err = tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{})
			wantErr(t, "ListAudit default", err, nil)
			if len(got) != 20 {
				t.Errorf("ListAudit default page: %d events, want 20", len(got))
			}
			return nil
		})
	})

	t.Run("per-project lists", func(t *testing.T) {
		var services, upstreams []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, project := range []string{"p01", "p02"} {
				for i := range 5 {
					svc := spec.Service{ProjectID: project, Name: fmt.Sprintf("svc-%d", i)}
					if err := tx.CreateService(ctx, &svc); err != nil {
						return err
					}
					up := spec.Upstream{ProjectID: project, Name: fmt.Sprintf("up-%d", i)}
					if err := tx.CreateUpstream(ctx, &up); err != nil {
						return err
					}
					if project == "p01" {
						services, upstreams = append(services, svc.ID), append(upstreams, up.ID)
					}
				}
			}
			return nil
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			svcs, total, err := tx.ListServices(ctx, "p01", store.ListQuery{Page: 2, PageSize: 2})
			wantErr(t, "ListServices", err, nil)
			var got []string
			for _, x := range svcs {
				got = append(got, x.ID)
			}
			if diff := cmp.Diff(services[2:4], got); diff != "" || total != 5 {
				t.Errorf("ListServices page 2, total %d (-want +got):\n%s", total, diff)
			}
			ups, total, err := tx.ListUpstreams(ctx, "p01", store.ListQuery{Q: "UP-4"})
			wantErr(t, "ListUpstreams", err, nil)
			got = nil
			for _, x := range ups {
				got = append(got, x.ID)
			}
			if diff := cmp.Diff(upstreams[4:], got); diff != "" || total != 1 {
				t.Errorf("ListUpstreams Q=UP-4, total %d (-want +got):\n%s", total, diff)
			}
			_, total, err = tx.ListServices(ctx, "p03", store.ListQuery{})
			wantErr(t, "ListServices of a project without any", err, nil)
			if total != 0 {
				t.Errorf("ListServices of p03: total %d, want 0", total)
			}
			return nil
		})
	})

	t.Run("groups", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			for _, name := range seq("g%d", 0, 5) {
				if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: name}); err != nil {
					return err
				}
			}
			got, total, err := tx.ListGroups(ctx, store.ListQuery{Page: 2, PageSize: 2})
			wantErr(t, "ListGroups", err, nil)
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if diff := cmp.Diff([]string{"g2", "g3"}, names); diff != "" || total != 5 {
				t.Errorf("ListGroups page 2, total %d (-want +got):\n%s", total, diff)
			}
			return nil
		})
	})
}
