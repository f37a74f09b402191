package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestReadyFile: started on port 0, the server writes the addresses it
// bound to the ready file once it is ready (they answer), and removes the
// file when it stops, so no later reader takes a dead server's addresses.
func TestReadyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ready.json")
	// A file left by an earlier run must not be mistaken for this one's.
	if err := os.WriteFile(path, []byte(`{"admin":"stale"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readyc := make(chan Addrs, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{AdminAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", StatusAddr: "127.0.0.1:0",
			DataDir: filepath.Join(dir, "data"), AdminPassword: "test-password", ReadyFile: path,
			DrainTimeout: 5 * time.Second, OnReady: func(a Addrs) { readyc <- a }})
	}()
	var want Addrs
	select {
	case want = <-readyc:
	case err := <-errc:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready within 30s")
	}
	// OnReady runs after the file is written.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got Addrs
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("ready file %s: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ready file says %+v, OnReady %+v", got, want)
	}
	for _, u := range []string{"http://" + got.Status + "/readyz", "http://" + got.Admin + "/api/v1/version", "http://" + got.Gateway + "/"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		if u == "http://"+got.Status+"/readyz" && resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", u, resp.StatusCode)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left beside the ready file: %v", err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ready file still there after stop: %v", err)
	}
}

// TestReadyFileUnwritable: a server that cannot write its ready file stops
// with the error rather than serving while its starter waits forever.
func TestReadyFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(context.Background(), Options{AdminAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", StatusAddr: "127.0.0.1:0",
			DataDir: filepath.Join(dir, "data"), AdminPassword: "test-password",
			ReadyFile: filepath.Join(dir, "missing", "ready.json"), DrainTimeout: 5 * time.Second})
	}()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Run returned nil, want the ready file's error")
		}
		t.Logf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run still serving 30s after failing to write its ready file")
	}
}
