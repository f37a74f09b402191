package sqlbackend

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/portico-gw/portico/internal/spec"
)

// The control plane's checks of a sql backend against its data source, when
// a route is saved: the columns a wizard filters on, and what a statement
// returns. Nothing here runs on a gateway.

// FillFilterTypes gives each wizard filter without a type the JSON type of
// its column, read from the table's description (a query that returns no
// row, in a read-only transaction).
func FillFilterTypes(ctx context.Context, db *sql.DB, dialect string, be *spec.SQLBackend) error {
	var cols []string
	for _, f := range be.Filters {
		if f.Type == "" {
			c := f.Column
			if c == "" {
				c = f.Param
			}
			if !identRe.MatchString(c) || strings.Contains(c, ".") {
				return fmt.Errorf("filters: %q is not a column name", c)
			}
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	if !identRe.MatchString(be.Table) {
		return fmt.Errorf("table %q is not a table name", be.Table)
	}
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(dialect, c)
	}
	types := map[string]string{}
	err := readOnly(ctx, db, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(q, ", ")+" FROM "+quoteIdent(dialect, be.Table)+" WHERE 1 = 0")
		if err != nil {
			return err
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			return err
		}
		for i, ct := range cts {
			types[cols[i]] = paramType(ct.DatabaseTypeName())
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for i := range be.Filters {
		f := &be.Filters[i]
		if f.Type == "" {
			c := f.Column
			if c == "" {
				c = f.Param
			}
			f.Type = types[c]
		}
	}
	return nil
}

// paramType is the parameter type bound for a column's type: JSON objects
// are bound as text.
func paramType(dbType string) string {
	if t := JSONType(dbType); t != "object" {
		return t
	}
	return "string"
}

// Describe checks a compiled statement against the data source without
// running it and returns the columns it answers. PostgreSQL prepares it
// (parse and plan, nothing executed); MySQL prepares it and, for a query,
// reads its columns with LIMIT 0 in a read-only transaction that is
// rolled back. A statement without rows (an INSERT) has no columns.
func Describe(ctx context.Context, db *sql.DB, st *Statement) ([]spec.SQLColumn, error) {
	if st.Dialect == dialectPostgres {
		return describePostgres(ctx, db, st)
	}
	stmt, err := db.PrepareContext(ctx, st.Query)
	if err != nil {
		return nil, err
	}
	_ = stmt.Close()
	if st.exec || !st.paged {
		return nil, nil
	}
	args := make([]any, len(st.args))
	for i, a := range st.args {
		if a == argLimit || a == argOffset {
			args[i] = int64(0)
		}
	}
	var out []spec.SQLColumn
	err = readOnly(ctx, db, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, st.Query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			return err
		}
		for _, ct := range cts {
			out = append(out, spec.SQLColumn{Name: ct.Name(), Type: JSONType(ct.DatabaseTypeName()), Database: strings.ToLower(ct.DatabaseTypeName())})
		}
		return rows.Err()
	})
	return out, err
}

func describePostgres(ctx context.Context, db *sql.DB, st *Statement) ([]spec.SQLColumn, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []spec.SQLColumn
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection")
		}
		pc := c.Conn()
		sd, err := pc.Prepare(ctx, "", st.Query)
		if err != nil {
			return err
		}
		for _, f := range sd.Fields {
			name := "unknown"
			if t, ok := pc.TypeMap().TypeForOID(f.DataTypeOID); ok {
				name = t.Name
			}
			out = append(out, spec.SQLColumn{Name: f.Name, Type: JSONType(name), Database: name})
		}
		return nil
	})
	return out, err
}

func readOnly(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}
