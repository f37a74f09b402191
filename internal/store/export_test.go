package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// ChangeLogMaxServices is changeLogMaxServices, for the suite.
const ChangeLogMaxServices = changeLogMaxServices

// SetChangeLogBounds makes the change log keep the newest keep revisions,
// pruned every every revisions, until the test ends, so that the suite
// watches a prune without 10 000 commits. Store tests do not run in
// parallel, so no other test sees the bounds.
func SetChangeLogBounds(t testing.TB, keep, every int64) {
	t.Helper()
	oldKeep, oldEvery := changeLogKeep, changeLogPruneEvery
	changeLogKeep, changeLogPruneEvery = keep, every
	t.Cleanup(func() { changeLogKeep, changeLogPruneEvery = oldKeep, oldEvery })
}

// BulkDeploy deploys n services of project, named prefix-100000…, with
// `routes` plain routes each (r0: GET /r0/{id}, …), to group in one transaction, and returns their ids
// (the names) in creation order. Each table is filled by one INSERT …
// SELECT over a recursive count (portable SQL): through the Tx methods, or
// statements with many bind parameters, the suite's 40 000-service group
// takes minutes under the race detector, which instruments every step of
// the pure-Go SQLite. The rows are what CreateService, CreateVersion and
// PutDeployment would write.
func BulkDeploy(ctx context.Context, s Store, group, project, prefix string, n, routes int) ([]string, error) {
	const first = 100000 // names of one length sort as they count
	if n <= 0 || n >= 900000 {
		return nil, fmt.Errorf("bulk deploy: %d services", n)
	}
	ts := toNanos(now())
	// The casts type the parameters for PostgreSQL, which infers none
	// from a SELECT list.
	counted := `WITH RECURSIVE n (i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $2)
		SELECT CAST($3 AS TEXT) || '-' || CAST(i AS TEXT) AS id FROM n`
	rs := make([]spec.Route, routes)
	for r := range rs {
		rs[r] = spec.Route{Name: fmt.Sprintf("r%d", r), Paths: []string{fmt.Sprintf("/r%d/{id}", r)}, Methods: []string{"GET"}}
	}
	routesJSON, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	upstream, err := json.Marshal(spec.Upstream{Name: "u", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9000, Weight: 1}}})
	if err != nil {
		return nil, err
	}
	err = s.Tx(ctx, func(tx Tx) error {
		t := tx.(*txn)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO services (` + serviceCols + `)
				SELECT id, CAST($4 AS TEXT), id, '', 'null', 'null', '/' || id, 'null', 'null', NULL, 'null',
					CAST($5 AS TEXT), CAST($6 AS BIGINT), CAST($6 AS BIGINT), NULL, '', '', '', 0
				FROM (` + counted + `) c`, []any{project, spec.StatePublished, ts}},
			{`INSERT INTO versions (id, project_id, service_id, version, service, created_by, created_at)
				SELECT 'v-' || id, CAST($4 AS TEXT), id, '1', '{"id":"' || id || '","project_id":"' || CAST($4 AS TEXT) ||
					'","name":"' || id || '","path":"/' || id || '","state":"` + spec.StatePublished + `","routes":' ||
					CAST($6 AS TEXT) || '}', 'bulk', CAST($5 AS BIGINT)
				FROM (` + counted + `) c`, []any{project, ts, string(routesJSON)}},
			{`INSERT INTO deployments (group_name, project_id, service_id, version, upstream, updated_at)
				SELECT CAST($4 AS TEXT), CAST($5 AS TEXT), id, '1', CAST($6 AS TEXT), CAST($7 AS BIGINT)
				FROM (` + counted + `) c`, []any{group, project, string(upstream), ts}},
		} {
			args := append([]any{first, first + n - 1, prefix}, q.args...)
			if _, err := t.exec(ctx, q.sql, args...); err != nil {
				return fmt.Errorf("bulk deploy: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, first+i)
	}
	return ids, nil
}

// TableNames lists the tables of a SQLite store's schema, goose's own
// aside.
func TableNames(ctx context.Context, tx Tx) ([]string, error) {
	rows, err := tx.(*txn).tx.QueryContext(ctx, `SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DropCounter removes a counter row, as a store restored from a backup
// older than the counter lacks it.
func DropCounter(ctx context.Context, tx Tx, name string) error {
	_, err := tx.(*txn).exec(ctx, "DELETE FROM counters WHERE name = $1", name)
	return err
}
