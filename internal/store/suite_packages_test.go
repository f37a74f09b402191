package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testPackages: an imported package is recorded with its zip, read back
// whole, listed newest first (by state, by text), updated by each
// attempt — failed with its reason, then published, which drops the zip
// — deleted, and goes with its project.
func testPackages(t *testing.T, s store.Store) {
	seed(t, s)
	zip := []byte("PK\x03\x04 not really a zip, \x00\xff bytes all the same")
	first := spec.Package{Project: "p1", Name: "users", Description: "the users API", SourceProject: "dev",
		ExportedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Services: []string{"user_info"},
		Uses:  spec.PackageRefs{Upstreams: []string{"users_db"}},
		State: spec.PackagePending, CreatedBy: "alice",
		Mapping: spec.PackageMapping{Upstreams: map[string]string{}, DataSources: map[string]string{}}}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreatePackage(ctx, &first, zip) })
	if first.ID == "" || first.CreatedAt.IsZero() || first.Size != len(zip) || first.UpdatedBy != "alice" {
		t.Fatalf("created %+v", first)
	}
	second := spec.Package{Project: "p1", Name: "orders.v2", SourceProject: "shop", State: spec.PackagePending,
		Uses: spec.PackageRefs{DataSources: []string{"crm"}}, CreatedBy: "bob"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreatePackage(ctx, &second, []byte("z")) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		err := tx.CreatePackage(ctx, &spec.Package{Project: "nope", Name: "x", State: spec.PackagePending}, nil)
		wantErr(t, "package of a missing project", err, store.ErrNotFound)
		return nil
	})

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetPackage(ctx, "p1", first.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("GetPackage (-want +got):\n%s", diff)
		}
		b, err := tx.PackageContent(ctx, "p1", first.ID)
		if err != nil || !bytes.Equal(b, zip) {
			t.Errorf("PackageContent = %q, %v; want the uploaded bytes", b, err)
		}
		_, err = tx.GetPackage(ctx, "p2", first.ID)
		wantErr(t, "another project's package", err, store.ErrNotFound)
		_, err = tx.PackageContent(ctx, "p2", first.ID)
		wantErr(t, "another project's package content", err, store.ErrNotFound)
		return nil
	})

	list := func(state string, q store.ListQuery) []string {
		t.Helper()
		var names []string
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			ps, total, err := tx.ListPackages(ctx, "p1", state, q)
			if err != nil {
				return err
			}
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if q.PageSize == 0 && total != len(ps) {
				t.Errorf("ListPackages(%q, %+v): total %d, %d items", state, q, total, len(ps))
			}
			return nil
		})
		return names
	}
	if got := list("", store.ListQuery{}); !cmp.Equal(got, []string{"orders.v2", "users"}) {
		t.Errorf("newest first: %v", got)
	}
	if got := list("", store.ListQuery{Q: "USERS API"}); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("by description: %v", got)
	}
	if got := list("", store.ListQuery{Q: "shop"}); !cmp.Equal(got, []string{"orders.v2"}) {
		t.Errorf("by source project: %v", got)
	}
	if got := list("", store.ListQuery{Q: "_"}); got != nil {
		t.Errorf("a LIKE wildcard matched %v", got)
	}
	if got := list("", store.ListQuery{PageSize: 1, Page: 2}); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("page 2 of 1: %v", got)
	}

	// A refused attempt: failed, with why and what was unmapped.
	first.State, first.Reason = spec.PackageFailed, "the request is invalid"
	first.Errors = []spec.FieldError{{Field: "mapping.upstreams.users_db", Message: "is not mapped"}}
	first.Unmapped = spec.PackageRefs{Upstreams: []string{"users_db"}}
	first.Attempts, first.UpdatedBy = 1, "carol"
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdatePackage(ctx, &first) })
	if got := list(spec.PackageFailed, store.ListQuery{}); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("failed ones: %v", got)
	}
	if got := list(spec.PackagePending, store.ListQuery{}); !cmp.Equal(got, []string{"orders.v2"}) {
		t.Errorf("pending ones: %v", got)
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetPackage(ctx, "p1", first.ID)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("failed package (-want +got):\n%s", diff)
		}
		if b, err := tx.PackageContent(ctx, "p1", first.ID); err != nil || !bytes.Equal(b, zip) {
			t.Errorf("a failed package's zip = %q, %v; want it kept", b, err)
		}
		return err
	})

	// Published: the result kept, the reason cleared, the zip dropped.
	first.State, first.Reason, first.Errors, first.Unmapped = spec.PackagePublished, "", nil, spec.PackageRefs{}
	first.Mapping.Upstreams = map[string]string{"users_db": "up"}
	first.Result = &spec.PackageResult{Changes: []spec.PackageChange{{Kind: "service", Name: "user_info", Action: "create"}},
		Diff: "+ service user_info\n", Warnings: []string{"w"}}
	first.Attempts = 2
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdatePackage(ctx, &first) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetPackage(ctx, "p1", first.ID)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("published package (-want +got):\n%s", diff)
		}
		if b, err := tx.PackageContent(ctx, "p1", first.ID); err != nil || b != nil {
			t.Errorf("a published package's zip = %q, %v; want none", b, err)
		}
		return err
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		missing := spec.Package{Project: "p1", ID: "nope", State: spec.PackageFailed}
		wantErr(t, "update of a missing package", tx.UpdatePackage(ctx, &missing), store.ErrNotFound)
		wantErr(t, "delete from another project", tx.DeletePackage(ctx, "p2", first.ID), store.ErrNotFound)
		if err := tx.DeletePackage(ctx, "p1", first.ID); err != nil {
			return err
		}
		wantErr(t, "delete again", tx.DeletePackage(ctx, "p1", first.ID), store.ErrNotFound)
		return nil
	})
	if got := list("", store.ListQuery{}); !cmp.Equal(got, []string{"orders.v2"}) {
		t.Errorf("after the delete: %v", got)
	}

	// They go with their project.
	other := spec.Package{Project: "p2", Name: "x", State: spec.PackagePending}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreatePackage(ctx, &other, []byte("z")) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteProject(ctx, "p2") })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetPackage(ctx, "p2", other.ID)
		wantErr(t, "a deleted project's package", err, store.ErrNotFound)
		return nil
	})
}
