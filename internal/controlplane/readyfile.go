package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The ready file tells whoever started the server (a test harness, a
// supervisor) which addresses it actually bound, so it can be started on
// port 0 without racing anyone for a port picked in advance. Its presence
// also means the server is ready: it is written when Options.OnReady fires.

// clearReadyFile removes a ready file left by an earlier run, so a waiter
// never reads the addresses of a server that is gone.
func clearReadyFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}

// writeReadyFile writes the bound addresses as JSON to path.tmp and renames
// it over path: a reader polling for path sees either nothing or the whole
// file, never a half-written one.
func writeReadyFile(path string, a Addrs) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
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
