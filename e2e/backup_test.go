package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// portico runs the built binary to its end and answers its output.
func portico(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("portico %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestBackupSQLiteRestorePostgres: a backup taken from a running SQLite
// control plane restores into a new PostgreSQL database, whose control
// plane (the same data directory, for its secret key) serves the same
// revision and answers what the first served; `portico migrate status`
// finds nothing pending there.
func TestBackupSQLiteRestorePostgres(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	_, port := backend(t, "kept")
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"kept","path":"/kept"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/kept/x", 5*time.Second, func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"kept"`) })
	var before struct{ Revision int64 }
	s.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &before)

	file := filepath.Join(t.TempDir(), "backup.jsonl.gz")
	portico(t, "backup", "--data-dir", dir, "--out", file) // while the server runs
	s.stop(t)

	_, _, dsn := newDatabase(t, "postgres")
	portico(t, "restore", "--store", dsn, "--data-dir", dir, "--in", file)
	if out := portico(t, "migrate", "status", "--store", dsn); !strings.Contains(out, "0 pending") {
		t.Errorf("migrate status after the restore:\n%s", out)
	}
	if out, err := exec.Command(binary, "restore", "--store", dsn, "--in", file).CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Errorf("a second restore into the same database: %v\n%s", err, out)
	}

	pg := startServer(t, dir, "--store", dsn)
	var after struct{ Revision int64 }
	pg.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &after)
	if after.Revision != before.Revision {
		t.Errorf("the restored group is at revision %d, the backed-up one was at %d", after.Revision, before.Revision)
	}
	waitFor(t, pg.Gateway+"/kept/x", 5*time.Second, func(st int, b []byte) bool { return st == 200 && strings.Contains(string(b), `"kept"`) })
}
