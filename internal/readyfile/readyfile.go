// Package readyfile writes the file that tells whoever started a Portico
// process (a test harness, a supervisor) which addresses it actually bound,
// so it can be started on port 0 without racing anyone for a port picked in
// advance. Its presence also means the process is ready.
package readyfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Clear removes a ready file left by an earlier run, so a waiter never
// reads the addresses of a process that is gone.
func Clear(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}

// Write writes v as JSON to path.tmp and renames it over path: a reader
// polling for path sees either nothing or the whole file, never a
// half-written one.
func Write(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}
