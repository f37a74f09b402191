package routing

import (
	"time"

	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/spec"
)

// dataSourceIndex indexes a group's data sources by id.
func dataSourceIndex(list []spec.DataSource) map[string]*spec.DataSource {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]*spec.DataSource, len(list))
	for i := range list {
		m[list[i].ID] = &list[i]
	}
	return m
}

// addSQLBackend compiles a sql backend (a generated data API) into the
// route's last request filter: it answers from the database, so nothing
// after it goes upstream. Validation compiles the statement without a
// pool; a gateway takes the data source's pool from deps.SQL, kept across
// reloads.
func addSQLBackend(fe *spec.FieldErrors, field string, deps Deps, rt *Route, be *spec.Backend) bool {
	if be == nil || be.Type != "sql" {
		return true
	}
	if be.SQLBackend == nil {
		fe.Add(field+".backend", "a sql backend needs data_source and table or sql")
		return false
	}
	ds := deps.DataSources[be.DataSource]
	if ds == nil {
		fe.Add(field+".backend.data_source", "data source %q does not exist (or is not mapped) in this group", be.DataSource)
		return false
	}
	st, err := sqlbackend.Compile(be.SQLBackend, ds.Type)
	if err != nil {
		fe.Add(field+".backend", "%v", err)
		return false
	}
	var pool *sqlbackend.Pool
	if deps.SQL != nil {
		if pool, err = deps.SQL.Get(ds); err != nil {
			fe.Add(field+".backend.data_source", "%v", err)
			return false
		}
	}
	var timeout time.Duration
	if t := be.Timeout; t != nil && t.Read > 0 {
		timeout = time.Duration(t.Read * float64(time.Second))
	}
	rt.addRequestFilter("data-api", sqlbackend.NewFilter(st, pool, timeout))
	return true
}
