// Package storetest gives tests and benchmarks of any package a store
// database of their own.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// PostgresDSN creates a database of the caller's own on the machine's
// PostgreSQL (127.0.0.1:5432, user $PGUSER or postgres, trust) and drops
// it when the test ends. It skips when the server is not running, unless
// PORTICO_REQUIRE_DATABASES is set (as .ci/run does).
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn, _ := postgresDatabase(tb)
	return dsn
}

// PostgresDatabase is PostgresDSN's database by name, with ddl run in it
// first: the tables a test of a data source reads.
func PostgresDatabase(tb testing.TB, ddl ...string) string {
	tb.Helper()
	dsn, name := postgresDatabase(tb)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	return name
}

func postgresDatabase(tb testing.TB) (dsn, name string) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			tb.Fatal("PostgreSQL is not running on 127.0.0.1:5432")
		}
		tb.Skip("PostgreSQL is not running on 127.0.0.1:5432")
	}
	_ = c.Close()
	user := os.Getenv("PGUSER")
	if user == "" {
		user = "postgres"
	}
	dsnOf := func(db string) string { return "postgres://" + user + "@127.0.0.1:5432/" + db + "?sslmode=disable" }
	admin, err := sql.Open("pgx", dsnOf("test"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = "portico_store_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return dsnOf(name), name
}
