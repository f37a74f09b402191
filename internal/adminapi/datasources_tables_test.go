package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestDataSourceTables: the listing names the tables of the saved data
// source with their columns in order (schema.table outside public), and
// counts against the connection tests' rate limit.
func TestDataSourceTables(t *testing.T) {
	name := storetest.PostgresDatabase(t, "create table users (id int primary key, name text not null, age int)",
		"create schema crm", "create table crm.orders (id bigint, total numeric(10,2))")
	a := newTestAPI(t)
	var d spec.DataSource
	a.mustJSON("POST", "/projects/default/data-sources", map[string]any{"name": "db", "type": "postgres", "host": "127.0.0.1",
		"database": name, "user": "postgres", "password": "s3cret", "params": map[string]string{"sslmode": "disable"}}, http.StatusCreated, &d)
	var res dataSourceTables
	a.mustJSON("GET", "/projects/default/data-sources/db/tables", nil, http.StatusOK, &res)
	if res.Error != "" || len(res.Tables) != 2 || res.Tables[0].Name != "users" || res.Tables[1].Name != "crm.orders" {
		t.Fatalf("tables = %+v", res)
	}
	cols := res.Tables[0].Columns
	if len(cols) != 3 || cols[0].Name != "id" || cols[0].Type != "integer" || cols[1].Name != "name" || cols[2].Name != "age" {
		t.Errorf("users columns = %+v", cols)
	}
	// A database that does not answer is an answer, not a failed call.
	a.mustJSON("POST", "/projects/default/data-sources", map[string]any{"name": "closed", "type": "postgres", "host": "127.0.0.1",
		"port": closedPort(t), "database": "x", "user": "x"}, http.StatusCreated, nil)
	a.mustJSON("GET", "/projects/default/data-sources/closed/tables", nil, http.StatusOK, &res)
	if res.Error == "" || len(res.Tables) != 0 {
		t.Errorf("closed port: %+v", res)
	}
	for range dataSourceTestLimit - 2 {
		a.mustJSON("POST", "/projects/default/data-sources/closed/test", nil, http.StatusOK, nil)
	}
	if r := a.do("GET", "/projects/default/data-sources/db/tables", nil); r.status != http.StatusTooManyRequests {
		t.Errorf("listing %d: %d, want 429", dataSourceTestLimit+1, r.status)
	}
}

// TestDataSourceTablesMySQL: on MariaDB the listing is the connection's
// database.
func TestDataSourceTablesMySQL(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:3306", time.Second); err != nil {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			t.Fatal("MariaDB is not running on 127.0.0.1:3306")
		}
		t.Skip("MariaDB is not running on 127.0.0.1:3306")
	} else {
		_ = c.Close()
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portico_t_" + hex.EncodeToString(b)
	admin, err := sqlbackend.Open(&spec.DataSource{Name: "admin", Type: spec.DataSourceMySQL, Host: "127.0.0.1", Database: "test", User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range []string{"CREATE DATABASE " + name, "CREATE TABLE " + name + ".users (id INT PRIMARY KEY, name VARCHAR(100))"} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		_ = admin.Close()
	})
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects/default/data-sources", map[string]any{"name": "db", "type": "mysql", "host": "127.0.0.1",
		"database": name, "user": "root"}, http.StatusCreated, nil)
	var res dataSourceTables
	a.mustJSON("GET", "/projects/default/data-sources/db/tables", nil, http.StatusOK, &res)
	if res.Error != "" || len(res.Tables) != 1 || res.Tables[0].Name != "users" || len(res.Tables[0].Columns) != 2 ||
		res.Tables[0].Columns[0].Type != "integer" || res.Tables[0].Columns[1].Name != "name" {
		t.Fatalf("tables = %+v", res)
	}
}
