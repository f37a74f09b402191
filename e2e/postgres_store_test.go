package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerOnPostgres: `portico server --store postgres://…` keeps its
// whole state in PostgreSQL: what is published there is served, and a
// control plane started again on the same database (its data directory
// holds only the secret key) serves it at once and keeps its history.
func TestServerOnPostgres(t *testing.T) {
	_, _, dsn := newDatabase(t, "postgres")
	dir := t.TempDir()
	s := startServer(t, dir, "--store", dsn)
	_, port := backend(t, "pg")
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"on_postgres","path":"/pg"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"r","paths":["/x"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	answersFrom(t, s.Gateway+"/pg/x", "pg", "/pg/x")
	if _, err := os.Stat(filepath.Join(dir, "portico.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite store was made in the data directory beside PostgreSQL: %v", err)
	}

	s.stop(t)
	// A control plane with another secret key would seal what this one
	// cannot open: it is refused before it writes anything.
	if other, err := launch(t, t.TempDir(), "--store", dsn); err == nil {
		other.stop(t)
		t.Error("a control plane with another secret key started on the store")
	} else if !strings.Contains(other.out.String(), "is not the one that sealed the store's secrets") {
		t.Errorf("a control plane with another secret key: %v\n%s", err, other.out.String())
	}
	s2 := startServer(t, dir, "--store", dsn)
	waitFor(t, s2.Gateway+"/pg/x", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })
	var hist struct {
		Items []struct{ Action, Version string }
	}
	s2.do(t, "GET", base+"/history", "", 200, &hist)
	if len(hist.Items) == 0 || hist.Items[0].Action != "publish" || hist.Items[0].Version != "1.0.0" {
		t.Errorf("history after a restart on PostgreSQL: %+v", hist.Items)
	}
}
