package store_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testCallLogs checks the call log: a batch larger than one statement,
// every filter, keyset pages, one record by id, and pruning by age and by
// count per group.
func testCallLogs(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, g := range []string{"g1", "g2"} {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}); err != nil {
				return err
			}
		}
		return nil
	})
	// 700 records, one a second, in two groups and two projects; more than
	// one statement's rows.
	statuses := []int{200, 201, 304, 404, 502}
	recs := make([]spec.CallRecord, 700)
	for i := range recs {
		r := spec.CallRecord{
			Time: t0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("req-%03d", i),
			TraceID: fmt.Sprintf("%032x", i), Group: []string{"g1", "g2"}[i%2], Instance: "gw-1",
			Project: []string{"pa", "pb"}[i%3%2], Service: "orders", ServiceID: "svc-orders", Version: "1.0.0",
			Route: []string{"list", "get"}[i%2], Consumer: []string{"", "app-1"}[i%5%2], Client: "10.0.0.1",
			Method: "GET", Host: "api.example.com", Path: "/orders", Status: statuses[i%5],
			LatencyMs: float64(i) / 10, Upstream: "10.0.0.9:8080", UpstreamStatus: statuses[i%5],
		}
		if i%7 == 0 {
			r.Service, r.ServiceID = "", ""
			r.Project, r.Route, r.Error = "", "", "route_not_found"
		}
		if i == 5 {
			r.RequestBody, r.ResponseBody, r.Side, r.ErrorDetail = `{"a":1}`, `{"b":2}`, spec.SideCanary, "timeout"
			// A composite's steps are kept with the record.
			r.Steps = []spec.CallStep{{Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200,
				Outcome: "ok", Attempts: 1, StartMs: 0.5, LatencyMs: 2.25}}
		}
		recs[i] = r
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "InsertCallRecords none", tx.InsertCallRecords(ctx, nil), nil)
		return tx.InsertCallRecords(ctx, recs)
	})
	for i := 1; i < len(recs); i++ {
		if recs[i].ID != recs[i-1].ID+1 {
			t.Fatalf("record %d has id %d after %d", i, recs[i].ID, recs[i-1].ID)
		}
	}

	ctx := testCtx(t)
	search := func(f store.CallLogFilter) ([]spec.CallRecord, store.CallLogCursor) {
		t.Helper()
		var got []spec.CallRecord
		var next store.CallLogCursor
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			got, next, err = tx.SearchCallRecords(ctx, f)
			return err
		})
		if err != nil {
			t.Fatalf("SearchCallRecords %+v: %v", f, err)
		}
		return got, next
	}
	// want is the records match selects, newest first.
	want := func(match func(spec.CallRecord) bool) []spec.CallRecord {
		var out []spec.CallRecord
		for i := len(recs) - 1; i >= 0; i-- {
			if match(recs[i]) {
				out = append(out, recs[i])
			}
		}
		return out
	}
	all := func(f store.CallLogFilter) []spec.CallRecord {
		t.Helper()
		f.AllProjects, f.Limit = !f.AllProjects, store.MaxCallLogLimit
		if f.Projects != nil {
			f.AllProjects = false
		}
		var out []spec.CallRecord
		for range 10 {
			page, next := search(f)
			out = append(out, page...)
			if next.IsZero() {
				return out
			}
			f.Before = next
		}
		t.Fatalf("more than 10 pages of %+v", f)
		return nil
	}
	for _, tc := range []struct {
		name  string
		f     store.CallLogFilter
		match func(spec.CallRecord) bool
	}{
		{"everything", store.CallLogFilter{}, func(spec.CallRecord) bool { return true }},
		{"group", store.CallLogFilter{Group: "g2"}, func(r spec.CallRecord) bool { return r.Group == "g2" }},
		{"project", store.CallLogFilter{Project: "pb"}, func(r spec.CallRecord) bool { return r.Project == "pb" }},
		{"visible projects", store.CallLogFilter{Projects: []string{"pa"}}, func(r spec.CallRecord) bool { return r.Project == "pa" }},
		{"no visible project", store.CallLogFilter{Projects: []string{}, AllProjects: true}, func(spec.CallRecord) bool { return false }},
		{"service", store.CallLogFilter{Service: "orders", Project: "pa"}, func(r spec.CallRecord) bool { return r.Service == "orders" && r.Project == "pa" }},
		{"service id", store.CallLogFilter{ServiceID: "svc-orders"}, func(r spec.CallRecord) bool { return r.ServiceID == "svc-orders" }},
		{"route", store.CallLogFilter{Route: "get"}, func(r spec.CallRecord) bool { return r.Route == "get" }},
		{"status class", store.CallLogFilter{StatusClass: 2}, func(r spec.CallRecord) bool { return r.Status/100 == 2 }},
		{"status class 5xx", store.CallLogFilter{StatusClass: 5}, func(r spec.CallRecord) bool { return r.Status == 502 }},
		{"status", store.CallLogFilter{Status: 201}, func(r spec.CallRecord) bool { return r.Status == 201 }},
		{"consumer", store.CallLogFilter{Consumer: "app-1"}, func(r spec.CallRecord) bool { return r.Consumer == "app-1" }},
		{"request id", store.CallLogFilter{RequestID: "req-123"}, func(r spec.CallRecord) bool { return r.RequestID == "req-123" }},
		{"trace id", store.CallLogFilter{TraceID: fmt.Sprintf("%032x", 42)}, func(r spec.CallRecord) bool { return r.RequestID == "req-042" }},
		{"since and until", store.CallLogFilter{Since: t0.Add(100 * time.Second), Until: t0.Add(110 * time.Second)}, func(r spec.CallRecord) bool {
			return !r.Time.Before(t0.Add(100*time.Second)) && r.Time.Before(t0.Add(110*time.Second))
		}},
		{"several", store.CallLogFilter{Group: "g1", StatusClass: 4, Project: "pa"}, func(r spec.CallRecord) bool {
			return r.Group == "g1" && r.Status == 404 && r.Project == "pa"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := all(tc.f)
			if diff := cmp.Diff(want(tc.match), got); diff != "" {
				t.Errorf("search (-want +got):\n%s", diff)
			}
		})
	}

	// Pages: default size, then the rest by cursor, never a record twice.
	page, next := search(store.CallLogFilter{AllProjects: true})
	if len(page) != store.DefaultCallLogLimit || next.IsZero() || page[0].RequestID != "req-699" {
		t.Fatalf("first page: %d records, next %v, first %s", len(page), next, page[0].RequestID)
	}
	parsed, err := store.ParseCallLogCursor(next.String())
	if err != nil || parsed != next {
		t.Fatalf("cursor %q read back as %+v, %v", next.String(), parsed, err)
	}
	page2, _ := search(store.CallLogFilter{AllProjects: true, Before: parsed, Limit: 1000})
	if len(page2) != store.MaxCallLogLimit || page2[0].ID != page[len(page)-1].ID-1 {
		t.Errorf("second page: %d records starting at %d, want %d from %d", len(page2), page2[0].ID, store.MaxCallLogLimit, page[len(page)-1].ID-1)
	}
	last, next := search(store.CallLogFilter{AllProjects: true, Limit: 2, Since: t0, Until: t0.Add(2 * time.Second)})
	if len(last) != 2 || !next.IsZero() {
		t.Errorf("a page holding the last records: %d, next %v", len(last), next)
	}

	// One record by id, every field back.
	err = s.View(ctx, func(tx store.Tx) error {
		got, err := tx.CallRecord(ctx, recs[5].ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(recs[5], got); diff != "" {
			t.Errorf("CallRecord (-want +got):\n%s", diff)
		}
		_, err = tx.CallRecord(ctx, recs[len(recs)-1].ID+1)
		wantErr(t, "CallRecord of a missing id", err, store.ErrNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Values from clients: too long, not UTF-8, NUL, NaN latency. The
	// batch is stored, and a search by the whole request id finds it.
	long := strings.Repeat("x", 5000)
	odd := []spec.CallRecord{
		{Time: t0.Add(1000 * time.Second), Group: "g1", RequestID: long, Project: "pa", Method: "GET", Path: "/", Status: 200, LatencyMs: math.NaN()},
		{Time: t0.Add(1001 * time.Second), Group: "g1", RequestID: "bad\xff\x00id", Consumer: strings.Repeat("é", 300), Method: "GET", Path: "/", Status: 200, LatencyMs: math.Inf(1)},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertCallRecords(ctx, odd) })
	if got, _ := search(store.CallLogFilter{AllProjects: true, RequestID: long}); len(got) != 1 || got[0].RequestID != long || got[0].LatencyMs != 0 {
		t.Errorf("the long request id's record: %+v", got)
	}

	if got, _ := search(store.CallLogFilter{AllProjects: true, RequestID: "bad\xff\x00id"}); len(got) != 1 || got[0].RequestID != "bad\ufffd\x00id" {
		t.Errorf("the request id that is not UTF-8: %+v", got)
	}

	// Pruning: by age, then down to a count per group, newest kept.
	var pruned int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		pruned, err = tx.PruneCallRecords(ctx, t0.Add(100*time.Second), 0)
		return err
	})
	if pruned != 100 {
		t.Errorf("pruned by age %d, want 100", pruned)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		var err error
		pruned, err = tx.PruneCallRecords(ctx, t0, 10)
		return err
	})
	// g1 holds 300 of the batch and the 2 odd ones (the newest), g2 300.
	if pruned != 292+290 {
		t.Errorf("pruned by count %d, want %d", pruned, 292+290)
	}
	for _, g := range []string{"g1", "g2"} {
		got := all(store.CallLogFilter{Group: g})
		newest := map[string]string{"g1": "bad\ufffd\x00id", "g2": "req-699"}[g]
		if len(got) != 10 || got[0].RequestID != newest {
			t.Errorf("group %s after the prune: %d records, newest %q", g, len(got), got[0].RequestID)
		}
	}
	if got, _ := search(store.CallLogFilter{AllProjects: true, RequestID: "req-699"}); len(got) != 1 {
		t.Errorf("the newest record of g2 went: %v", got)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.PruneCallRecords(ctx, t0.Add(24*time.Hour), 10)
		return err
	})
	if got := all(store.CallLogFilter{}); len(got) != 0 {
		t.Errorf("after pruning everything: %d records", len(got))
	}

	// A record without a time is stamped as it is stored.
	before := time.Now().UTC()
	stamped := []spec.CallRecord{{Group: "g1", RequestID: "now", Method: "GET", Path: "/", Status: 200}}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.InsertCallRecords(ctx, stamped) })
	if got, _ := search(store.CallLogFilter{AllProjects: true, RequestID: "now"}); len(got) != 1 || got[0].Time.Before(before) || got[0].Time.After(time.Now()) {
		t.Errorf("a record without a time: %+v (stored after %s)", got, before)
	}
}

// TestCallLogCursor: a cursor reads back as itself; anything else is
// refused, not read as the first page.
func TestCallLogCursor(t *testing.T) {
	c := store.CallLogCursor{At: time.Date(2026, 5, 1, 0, 0, 0, 5, time.UTC), ID: 42}
	if got, err := store.ParseCallLogCursor(c.String()); err != nil || got != c {
		t.Errorf("ParseCallLogCursor(%q) = %+v, %v", c.String(), got, err)
	}
	if got, err := store.ParseCallLogCursor(""); err != nil || !got.IsZero() {
		t.Errorf(`ParseCallLogCursor("") = %+v, %v`, got, err)
	}
	for _, bad := range []string{"42", "x.1", "1.x", "1.0", "-1.5", "1.-5", "1.2.3"} {
		if _, err := store.ParseCallLogCursor(bad); err == nil {
			t.Errorf("ParseCallLogCursor(%q) accepted", bad)
		}
	}
}
