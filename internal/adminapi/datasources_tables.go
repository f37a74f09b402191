package adminapi

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// dataSourceTables is the answer of GET …/data-sources/{d}/tables: what
// the console's wizard offers to pick from. A database that cannot be
// reached or refuses the query is an answer (Error set), not an error of
// the call, as with the connection test.
type dataSourceTables struct {
	Tables []dataSourceTable `json:"tables"`
	// Truncated says the database holds more than the answer lists
	// (maxListedTables tables, maxListedColumns columns of a table).
	Truncated bool   `json:"truncated,omitempty"`
	Error     string `json:"error,omitempty"`
}

// dataSourceTable is one table or view: its name as a wizard route's
// table takes it (schema.table outside PostgreSQL's public schema) and its
// columns in their order.
type dataSourceTable struct {
	Name    string           `json:"name"`
	Columns []spec.SQLColumn `json:"columns"`
}

// The bounds of one listing: a schema of thousands of tables would
// otherwise make an answer (and a console page) of any size.
const (
	maxListedTables  = 500
	maxListedColumns = 200
	// maxListedRows bounds the rows read from information_schema.
	maxListedRows = 20000
)

// The catalogue queries take no input: the schema is the connection's
// (MySQL's current database; PostgreSQL's schemas but the system ones).
const (
	tablesQueryPostgres = `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%'
ORDER BY table_schema = 'public' DESC, table_schema, table_name, ordinal_position LIMIT 20001`
	tablesQueryMySQL = `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position LIMIT 20001`
)

// listDataSourceTables lists the tables and columns of a saved data
// source. It dials the saved host like the connection test, so it shares
// that test's permission and its per-user rate limit: it cannot be used
// to probe hosts either.
func (c *call) listDataSourceTables() (any, error) {
	if wait, ok := c.s.dsTests.allow(c.user.ID, c.s.now()); !ok {
		c.s.log.Warn("data source tables refused: rate limit", "user", c.user.Username, "client", clientAddr(c.r))
		return nil, &tooMany{retryAfter: wait, detail: fmt.Sprintf(
			"at most %d data source tests and table listings a minute: try again in %d seconds", dataSourceTestLimit, retryAfterSeconds(wait))}
	}
	var d spec.DataSource
	err := c.view(func(tx store.Tx) error {
		var err error
		d, err = c.loadDataSource(tx, c.path("p"), c.path("d"))
		return err
	})
	if err != nil {
		return nil, err
	}
	ds := c.opened(d)
	res := dataSourceTables{Tables: []dataSourceTable{}}
	db, err := sqlbackend.Open(&ds)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(c.ctx(), 10*time.Second)
	defer cancel()
	if err := readTables(ctx, db, d.Type, &res); err != nil {
		// The driver's message names the host and database, never the
		// password (sqlbackend redacts connection strings).
		res.Tables, res.Error = []dataSourceTable{}, err.Error()
	}
	return res, nil
}

// readTables fills res from information_schema in a read-only transaction.
func readTables(ctx context.Context, db *sql.DB, dialect string, res *dataSourceTables) error {
	q := tablesQueryPostgres
	if dialect == spec.DataSourceMySQL {
		q = tablesQueryMySQL
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n > maxListedRows {
			res.Truncated = true
			break
		}
		var schema, table, column, typ string
		if err := rows.Scan(&schema, &table, &column, &typ); err != nil {
			return err
		}
		name := table
		if dialect == spec.DataSourcePostgres && schema != "public" {
			name = schema + "." + table
		}
		last := len(res.Tables) - 1
		if last < 0 || res.Tables[last].Name != name {
			if len(res.Tables) == maxListedTables {
				res.Truncated = true
				break
			}
			res.Tables = append(res.Tables, dataSourceTable{Name: name})
			last++
		}
		t := &res.Tables[last]
		if len(t.Columns) == maxListedColumns {
			res.Truncated = true
			continue
		}
		t.Columns = append(t.Columns, spec.SQLColumn{Name: column, Type: sqlbackend.JSONType(typ), Database: typ})
	}
	return rows.Err()
}
