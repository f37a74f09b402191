package storetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/store"
)

// template is an embedded store migrated once per test process, kept as
// the bytes of its files.
var template struct {
	once  sync.Once
	files map[string][]byte
	err   error
}

// SQLiteDir answers a new directory holding an embedded store that is
// already migrated: a copy of one migrated once per test process. Running
// the migrations costs about a second under the race detector, and the
// admin API's tests alone open a fresh store a hundred times; opening the
// copy checks the migrations as any start does.
func SQLiteDir(tb testing.TB) string {
	tb.Helper()
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "portico-store-template-")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		s, err := store.OpenSQLite(context.Background(), dir, nil)
		if err != nil {
			template.err = err
			return
		}
		if template.err = s.Close(); template.err != nil {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			template.err = err
			return
		}
		template.files = map[string][]byte{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				template.err = err
				return
			}
			template.files[e.Name()] = b
		}
	})
	if template.err != nil {
		tb.Fatalf("migrate the template store: %v", template.err)
	}
	dir := tb.TempDir()
	for name, b := range template.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
