// Package golden compares a test's large output (a generated document, a
// converted configuration) with a file kept under testdata, so a change to
// it shows as a reviewable diff. Run the test with -update to rewrite the
// files from the current output, then review the diff:
//
//	go test ./internal/adminapi -run Golden -update
//
// Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files from the current output")

// Check compares got with testdata/name, or writes it there with -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	CheckFile(t, filepath.Join("testdata", name), got)
}

// CheckFile compares got with the file at path (relative to the test's
// package), or writes it there with -update: for generated documents that
// live outside testdata, such as a reference page under docs/.
func CheckFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run the test with -update and review the diff if the change is meant):\n%s", path, lineDiff(want, got))
	}
}

// lineDiff names the first differing line, with a little context: enough
// to see what changed without a diff library.
func lineDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	i := 0
	for i < len(w) && i < len(g) && bytes.Equal(w[i], g[i]) {
		i++
	}
	var b bytes.Buffer
	for j := max(0, i-3); j < i; j++ {
		b.WriteString("  " + string(w[j]) + "\n")
	}
	for j := i; j < min(len(w), i+3); j++ {
		b.WriteString("- " + string(w[j]) + "\n")
	}
	for j := i; j < min(len(g), i+3); j++ {
		b.WriteString("+ " + string(g[j]) + "\n")
	}
	return b.String()
}
