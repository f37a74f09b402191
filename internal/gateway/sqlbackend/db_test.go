package sqlbackend

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// testDB creates a database of its own on the machine's PostgreSQL or
// MariaDB and drops it after the test; it skips when the server is not
// running (.ci/run starts both).
func testDB(t testing.TB, typ string) *spec.DataSource {
	t.Helper()
	addr, user := "127.0.0.1:5432", "postgres"
	if typ == spec.DataSourceMySQL {
		addr, user = "127.0.0.1:3306", "root"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			t.Fatalf("%s is not running on %s", typ, addr)
		}
		t.Skipf("%s is not running on %s", typ, addr)
	}
	_ = c.Close()
	if typ == spec.DataSourcePostgres && os.Getenv("PGUSER") != "" {
		user = os.Getenv("PGUSER")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portico_t_" + hex.EncodeToString(b)
	admin := &spec.DataSource{ID: "admin", Name: "admin", Type: typ, Host: "127.0.0.1", Database: "test", User: user}
	db, err := Open(admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil && typ == spec.DataSourcePostgres && user == "postgres" {
		// Some machines only have a root role.
		_ = db.Close()
		admin.User = "root"
		if db, err = Open(admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q := "DROP DATABASE " + name
		if typ == spec.DataSourcePostgres {
			q += " WITH (FORCE)"
		}
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		_ = db.Close()
	})
	ds := *admin
	ds.ID, ds.Name, ds.Database = "ds-"+name, "crm", name
	return &ds
}

// seedUsers creates users(id, name, age, active, score, created) with n rows.
func seedUsers(t testing.TB, ds *spec.DataSource, n int) *sql.DB {
	t.Helper()
	db, err := Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	ddl := `CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(200) NOT NULL, age INT, active BOOLEAN NOT NULL DEFAULT TRUE, score NUMERIC(10,2), note TEXT)`
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	ph := "$1, $2, $3, $4, $5"
	if ds.Type == spec.DataSourceMySQL {
		ph = "?, ?, ?, ?, ?"
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO users (id, name, age, active, score) VALUES ("+ph+")")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		name := "user" + itoa(i)
		if i == 1 {
			name = "alice"
		}
		if _, err := stmt.ExecContext(ctx, i, name, 20+i%50, i%2 == 0, float64(i)/4); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return db
}

func itoa(i int) string {
	b := []byte{}
	if i == 0 {
		return "0"
	}
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
