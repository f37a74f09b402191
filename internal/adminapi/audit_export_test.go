package adminapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TestAuditExportBound: the export is bounded per request; its last line
// says where to go on, and following it yields every event once, in
// order, across the store's read batches.
func TestAuditExportBound(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	const n = 3*exportBatch + 500 // more than three read batches
	err := a.store.Tx(ctx, func(tx store.Tx) error {
		for i := range n {
			e := &spec.AuditEvent{Actor: "loader", Action: "upstream.create", Resource: fmt.Sprintf("/projects/default/upstreams/u%d", i)}
			if err := tx.AddAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := a.export(t, a.token, "actor=loader")
	if len(all.events) != n || all.next != nil {
		t.Fatalf("unbounded export: %d events, next %v; want %d and no continuation", len(all.events), all.next, n)
	}
	for i := 1; i < n; i++ {
		if all.events[i].ID <= all.events[i-1].ID {
			t.Fatalf("export line %d: id %d after %d, want oldest first", i+1, all.events[i].ID, all.events[i-1].ID)
		}
	}
	if r := all.resp; r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("export Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}

	// In steps of 1500 (crossing the batches): 1500, 1500, then the rest.
	var got []int64
	query := "actor=loader&limit=1500"
	for step := 0; ; step++ {
		if step > 3 {
			t.Fatal("the export never ends")
		}
		ex := a.export(t, a.token, query)
		for _, e := range ex.events {
			got = append(got, e.ID)
		}
		if ex.next == nil {
			if len(ex.events) != n-3000 || step != 2 {
				t.Errorf("last step %d sent %d events, want step 2 with %d", step, len(ex.events), n-3000)
			}
			break
		}
		last := ex.events[len(ex.events)-1].ID
		if len(ex.events) != 1500 || ex.next.NextAfterID != last {
			t.Fatalf("bounded step %d: %d events, next_after_id %d; want 1500 and %d", step, len(ex.events), ex.next.NextAfterID, last)
		}
		next, err := url.Parse(ex.next.Next)
		if err != nil || next.Path != Prefix+"/audit-events/export" ||
			next.Query().Get("actor") != "loader" || next.Query().Get("limit") != "1500" || next.Query().Get("after_id") != fmt.Sprint(last) {
			t.Fatalf("continuation %q: %v", ex.next.Next, err)
		}
		query = next.RawQuery
	}
	want := make([]int64, n)
	for i, e := range all.events {
		want[i] = e.ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("following the continuations gave %d events, want the %d of one export in the same order", len(got), n)
	}
	// A bound that the events exactly fill needs no continuation.
	if ex := a.export(t, a.token, fmt.Sprintf("actor=loader&limit=%d", n)); len(ex.events) != n || ex.next != nil {
		t.Errorf("export of exactly limit events: %d, next %v", len(ex.events), ex.next)
	}
	// Nothing selected: an empty body.
	if ex := a.export(t, a.token, "actor=nobody"); len(ex.resp.body) != 0 {
		t.Errorf("empty export body %q", ex.resp.body)
	}
}

// failingScans is a store whose ScanAudit fails after the first ok ones.
type failingScans struct {
	store.Store
	ok, scans atomic.Int32
}

func (f *failingScans) View(ctx context.Context, fn func(store.Tx) error) error {
	return f.Store.View(ctx, func(tx store.Tx) error { return fn(scanTx{Tx: tx, f: f}) })
}

type scanTx struct {
	store.Tx
	f *failingScans
}

func (t scanTx) ScanAudit(ctx context.Context, flt store.AuditFilter, limit int, fn func(spec.AuditEvent) error) (int, error) {
	if t.f.scans.Add(1) > t.f.ok.Load() {
		return 0, fmt.Errorf("scan: %w", store.ErrUnavailable)
	}
	return t.Tx.ScanAudit(ctx, flt, limit, fn)
}

// TestAuditExportFailure: a store failing before the first line is a
// problem answer; one failing later cuts the response, so that the
// client sees an incomplete body, not a short export that looks whole.
func TestAuditExportFailure(t *testing.T) {
	fs := &failingScans{}
	a := newTestAPI(t, func(c *Config) { fs.Store = c.Store; c.Store = fs })
	ctx := context.Background()
	err := a.store.Tx(ctx, func(tx store.Tx) error {
		for range exportBatch + 10 {
			if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: "loader", Action: "x.y", Resource: "/x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.do("GET", "/audit-events/export", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("export with the store down: %d %s, want 503", r.status, r.body)
	}

	fs.ok.Store(fs.scans.Load() + 1) // the first batch is read, the second fails
	req, err := http.NewRequest("GET", a.url+Prefix+"/audit-events/export", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("export failing after its start: status %d, read error %v; want 200 and a cut body", resp.StatusCode, err)
	}
	if n := bytes.Count(body, []byte("\n")); n > exportBatch {
		t.Errorf("the cut export sent %d lines, at most the first batch (%d) was read", n, exportBatch)
	}
}
