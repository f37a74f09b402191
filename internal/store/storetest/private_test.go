package storetest_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestPrivatePostgres: a private server answers, stops answering when
// stopped, and answers again on the same DSN once started.
func TestPrivatePostgres(t *testing.T) {
	p := storetest.StartPostgres(t)
	db, err := sql.Open("pgx", p.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err == nil {
		t.Fatal("answered while stopped")
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}
