package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/portico-gw/portico/internal/adminclient"
)

// sqlBench is the portico-fast-sql row: the bench route answers from the
// local PostgreSQL instead of the origin, a wizard-mode generated data API
// reading one row of users by primary key (the id comes in a header, as
// the load sends the same request every time). Its figures sit beside the
// plain proxy row's: the cost of bind + query + JSON against a proxy hop.
var sqlBench = []routePlugin{{name: "sql-backend", headers: []string{"id: 4242"},
	setup: setupBenchDB, afterPublish: switchBenchToSQL}}

// benchDatabase is recreated on every run; it stays behind for a look.
const benchDatabase = "portico_bench"

// setupBenchDB creates the bench database with 10 000 users and registers
// it as the data source "benchdb".
func setupBenchDB(ctx context.Context, c *adminclient.Client) error {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		return errSkip("PostgreSQL is not reachable on 127.0.0.1:5432")
	}
	_ = conn.Close()
	var admin *sql.DB
	user := ""
	for _, u := range []string{"postgres", "root"} {
		db, err := sql.Open("pgx", "postgres://"+u+"@127.0.0.1:5432/test?sslmode=disable")
		if err == nil && db.PingContext(ctx) == nil {
			admin, user = db, u
			break
		}
		if db != nil {
			_ = db.Close()
		}
	}
	if admin == nil {
		return errSkip("PostgreSQL refuses the postgres and root roles")
	}
	defer admin.Close()
	for _, q := range []string{"DROP DATABASE IF EXISTS " + benchDatabase + " WITH (FORCE)", "CREATE DATABASE " + benchDatabase} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	db, err := sql.Open("pgx", "postgres://"+user+"@127.0.0.1:5432/"+benchDatabase+"?sslmode=disable")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL, age INT NOT NULL)",
		"INSERT INTO users SELECT i, 'user' || i, 20 + i % 50 FROM generate_series(1, 10000) AS i",
		"ANALYZE users",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return c.Post(ctx, "/projects/default/data-sources", map[string]any{
		"name": "benchdb", "type": "postgres", "host": "127.0.0.1", "database": benchDatabase, "user": user,
		"params": map[string]string{"sslmode": "disable"}, "pool": map[string]any{"max_open": 16},
	}, nil)
}

// switchBenchToSQL turns the published bench route into the sql backend
// and publishes that as 1.0.1.
func switchBenchToSQL(ctx context.Context, c *adminclient.Client, serviceBase string, upstream map[string]any) error {
	backend := map[string]any{"type": "sql", "data_source": "benchdb", "table": "users",
		"columns": []string{"id", "name", "age"}, "page_size": 1,
		"filters": []map[string]any{{"param": "id", "in": "header", "op": "=", "required": true}}}
	if err := c.Patch(ctx, serviceBase+"/routes/bench", map[string]any{"backend": backend}, nil); err != nil {
		return fmt.Errorf("make the bench route a sql backend: %w", err)
	}
	if err := c.Post(ctx, serviceBase+"/publish",
		map[string]any{"group": "default", "version": "1.0.1", "upstream": upstream}, nil); err != nil {
		return fmt.Errorf("publish the sql route: %w", err)
	}
	return nil
}
