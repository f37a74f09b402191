package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// populate fills a store with a little of everything: projects, groups,
// an upstream, a folder, services with routes, versions, deployments,
// revisions with their change log and route shapes, history, audit, a
// gateway token and an instance.
func populate(t *testing.T, s store.Store) {
	t.Helper()
	seed(t, s)
	a := newService(t, s, "p1", "orders", "list", "get")
	b := newService(t, s, "p2", "users", "me")
	for _, svc := range []spec.Service{a, b} {
		freeze(t, s, svc, "1.0.0")
		deploy(t, s, "default", svc, "1.0.0")
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		f := spec.Folder{ProjectID: "p1", Name: "shop"}
		if err := tx.CreateFolder(ctx, &f); err != nil {
			return err
		}
		child := spec.Folder{ProjectID: "p1", Name: "cart", ParentID: f.ID}
		if err := tx.CreateFolder(ctx, &child); err != nil {
			return err
		}
		if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default", Services: []string{a.ID, b.ID}}); err != nil {
			return err
		}
		if err := tx.AddHistory(ctx, &spec.HistoryEvent{ProjectID: "p1", ServiceID: a.ID, Group: "default", Action: "publish", Version: "1.0.0", Revision: 1}); err != nil {
			return err
		}
		if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: "admin", Action: "service.create", Resource: "/projects/p1/services/" + a.ID, Detail: json.RawMessage(`{"n":1}`)}); err != nil {
			return err
		}
		tok := spec.GatewayToken{Group: "default", Name: "edge", Hint: "abcd", ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)}
		if err := tx.CreateGatewayToken(ctx, &tok, credential.HashKey("ptg_x")); err != nil {
			return err
		}
		return tx.PutGatewayInstance(ctx, &spec.GatewayInstance{ID: "gw-1", Group: "default", Addresses: []string{"10.0.0.1:9080"},
			Engine: "fast", Revision: 1, StartedAt: time.Unix(1_800_000_000, 123), LastSeen: time.Unix(1_800_000_010, 0), Requests: 1 << 40, TokenID: tok.ID})
	})
}

// backupOf is a store's backup, decoded: its header's schema version and
// each table's columns and rows.
type backupContent struct {
	schema int64
	tables []backupSection
}

type backupSection struct {
	Table   string
	Columns []string
	Rows    [][]any
}

func backupOf(t *testing.T, s *store.SQL) backupContent {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(t.Context(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	var h struct {
		SchemaVersion int64 `json:"schema_version"`
	}
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	out := backupContent{schema: h.SchemaVersion}
	for {
		var sec struct {
			Table   string
			Columns []string
			Rows    int
		}
		if err := dec.Decode(&sec); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		bs := backupSection{Table: sec.Table, Columns: sec.Columns}
		for range sec.Rows {
			var row []any
			if err := dec.Decode(&row); err != nil {
				t.Fatal(err)
			}
			bs.Rows = append(bs.Rows, row)
		}
		out.tables = append(out.tables, bs)
	}
}

func backupBytes(t *testing.T, s *store.SQL) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(t.Context(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes()
}

// TestBackupRoundTrip: a backup restored into a new store — SQLite, and
// PostgreSQL when it runs — backs up to the same content, row for row; a
// restore into a store that holds anything is refused and changes
// nothing.
func TestBackupRoundTrip(t *testing.T) {
	src := openSQLite(t, t.TempDir())
	t.Cleanup(func() { _ = src.Close() })
	populate(t, src)
	want := backupOf(t, src)
	for _, name := range []string{"users", "folders", "services", "routes", "versions", "deployments", "history", "audit",
		"revision_changes", "gateway_tokens", "gateway_instances"} {
		i := slices.IndexFunc(want.tables, func(s backupSection) bool { return s.Table == name })
		if i < 0 || (len(want.tables[i].Rows) == 0 && name != "users") {
			t.Errorf("the backup has no rows of %s: the round trip would prove little", name)
		}
	}
	data := backupBytes(t, src)

	targets := map[string]func(t *testing.T) *store.SQL{
		"sqlite":   func(t *testing.T) *store.SQL { return openSQLite(t, t.TempDir()) },
		"postgres": func(t *testing.T) *store.SQL { return openPostgres(t, postgresDSN(t)) },
	}
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			dst := open(t)
			t.Cleanup(func() { _ = dst.Close() })
			if err := dst.Restore(t.Context(), bytes.NewReader(data)); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if diff := cmp.Diff(want, backupOf(t, dst), cmp.AllowUnexported(backupContent{})); diff != "" {
				t.Errorf("the restored store's content differs (-backed up +restored):\n%s", diff)
			}
			// The restored store works: its snapshot is the source's.
			snap := func(s *store.SQL) spec.Snapshot {
				var out spec.Snapshot
				if err := s.View(t.Context(), func(tx store.Tx) error {
					var err error
					out, err = tx.Snapshot(t.Context(), []string{"default"})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				return out
			}
			if a, b := snap(src), snap(dst); !cmp.Equal(a, b) || len(a.Groups[0].Services) != 2 {
				t.Errorf("snapshots differ after the restore:\n%s", cmp.Diff(a, b))
			}
			err := dst.Restore(t.Context(), bytes.NewReader(data))
			if !errors.Is(err, store.ErrNotEmpty) {
				t.Errorf("a second restore: %v, want ErrNotEmpty", err)
			}
		})
	}

	// Not a backup, a damaged one: refused.
	dst := openSQLite(t, t.TempDir())
	t.Cleanup(func() { _ = dst.Close() })
	for what, in := range map[string][]byte{"not gzip": []byte("hello"), "cut short": data[:len(data)/2]} {
		if err := dst.Restore(t.Context(), bytes.NewReader(in)); err == nil {
			t.Errorf("a restore of %s succeeded", what)
		}
	}
	if err := dst.Restore(t.Context(), bytes.NewReader(data)); err != nil {
		t.Errorf("a restore after refused ones left something behind: %v", err)
	}
}

// TestBackupCoversEverySchemaTable: every table of the schema is in a
// backup, so a migration that adds one cannot be forgotten there.
func TestBackupCoversEverySchemaTable(t *testing.T) {
	s := openSQLite(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	var got []string
	for _, sec := range backupOf(t, s).tables {
		got = append(got, sec.Table)
	}
	for name := range store.NotBackedUp {
		got = append(got, name)
	}
	var schema []string
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		schema, err = store.TableNames(t.Context(), tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(schema)
	if !slices.Equal(got, schema) {
		t.Errorf("tables in a backup %v, in the schema %v", got, schema)
	}
}
