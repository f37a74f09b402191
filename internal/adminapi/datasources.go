package adminapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func dataSourceResource(p, id string) string { return projectResource(p) + "/data-sources/" + id }

// dataSourceTest is the answer of POST …/data-sources/{d}/test.
type dataSourceTest struct {
	OK        bool    `json:"ok"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

func (c *call) loadDataSource(tx store.Tx, project, idOrName string) (spec.DataSource, error) {
	if _, err := c.loadProject(tx, project); err != nil {
		return spec.DataSource{}, err
	}
	d, err := tx.GetDataSource(c.ctx(), project, idOrName)
	return d, onNotFound(err, "data source %q not found in project %q", idOrName, project)
}

// seal replaces a password given in clear by its sealed form (the id as
// associated data, so a sealed value cannot be moved to another source).
func (c *call) seal(d *spec.DataSource) error {
	if d.Password == "" {
		return nil
	}
	sealed, err := c.s.secrets.Seal(d.Password, d.ID)
	if err != nil {
		return fmt.Errorf("seal data source password: %w", err)
	}
	d.Sealed, d.Password = sealed, ""
	return nil
}

// opened is d with its password in clear in Secret, for a connection made
// by the control plane itself (test, route checks).
func (c *call) opened(d spec.DataSource) spec.DataSource {
	if d.Sealed != "" {
		if s, err := c.s.secrets.Open(d.Sealed, d.ID); err == nil {
			d.Secret = s
		}
	}
	return d
}

func (c *call) listDataSources() (any, error) {
	return listInProject(c, "data sources", func(tx store.Tx, p string, q store.ListQuery) ([]spec.DataSource, int, error) {
		return tx.ListDataSources(c.ctx(), p, q)
	}, func(d *spec.DataSource) { *d = d.Redacted() })
}

func (c *call) getDataSource() (any, error) {
	var d spec.DataSource
	err := c.view(func(tx store.Tx) error {
		var err error
		d, err = c.loadDataSource(tx, c.path("p"), c.path("d"))
		return err
	})
	return d.Redacted(), err
}

func (c *call) createDataSource() (any, error) {
	var d spec.DataSource
	if err := c.decode(&d); err != nil {
		return nil, err
	}
	p := c.path("p")
	d.ID, d.ProjectID, d.Sealed, d.Secret, d.HasPassword = newID(), p, "", "", false
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := c.seal(&d); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		if err := tx.CreateDataSource(c.ctx(), &d); err != nil {
			return onConflict(err, "a data source named %q already exists in project %q", d.Name, p)
		}
		return c.auditChange(tx, "data_source.create", dataSourceResource(p, d.ID), nil, auditedDataSource(d, true))
	})
	return d.Redacted(), err
}

// auditedDataSource is d as its audit shows it: redacted, with a mark of
// its password (secretMark; setNow: this change gave a new one).
func auditedDataSource(d spec.DataSource, setNow bool) spec.DataSource {
	a := d.Redacted()
	a.Password = secretMark(d.Sealed != "", setNow)
	return a
}

func (c *call) patchDataSource() (any, error) { return c.updateDataSource(true) }
func (c *call) putDataSource() (any, error)   { return c.updateDataSource(false) }

// updateDataSource keeps the stored password unless a new one is given: it
// is write-only, so a client cannot send it back.
func (c *call) updateDataSource(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var d spec.DataSource
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadDataSource(tx, p, c.path("d"))
		if err != nil {
			return err
		}
		if d, err = decodeUpdate(body, patch, old.Redacted()); err != nil {
			return err
		}
		d.ID, d.ProjectID, d.CreatedAt, d.Secret, d.HasPassword = old.ID, old.ProjectID, old.CreatedAt, "", false
		if err := d.Validate(); err != nil {
			return err
		}
		d.Sealed = old.Sealed
		if err := c.seal(&d); err != nil {
			return err
		}
		if err := tx.UpdateDataSource(c.ctx(), &d); err != nil {
			return onConflict(err, "update data source %q in project %q (is the name %q taken?)", old.Name, p, d.Name)
		}
		// Gateways that query it see the change: a new revision of their
		// groups, in the release history of the services concerned.
		if err := release.DataSourceChanged(c.ctx(), tx, c.user.Username, d); err != nil {
			return err
		}
		return c.auditChange(tx, "data_source.update", dataSourceResource(p, d.ID),
			auditedDataSource(old, false), auditedDataSource(d, d.Sealed != old.Sealed))
	})
	return d.Redacted(), err
}

func (c *call) deleteDataSource() (any, error) {
	p := c.path("p")
	return nil, c.tx(func(tx store.Tx) error {
		d, err := c.loadDataSource(tx, p, c.path("d"))
		if err != nil {
			return err
		}
		users, err := tx.DataSourceUsers(c.ctx(), &d)
		if err != nil {
			return fmt.Errorf("users of data source %q: %w", d.Name, err)
		}
		if len(users) > 0 {
			return withDetail(store.ErrConflict, "data source %q is used by %s", d.Name, strings.Join(users, ", "))
		}
		if err := tx.DeleteDataSource(c.ctx(), p, d.ID); err != nil {
			return err
		}
		return c.auditChange(tx, "data_source.delete", dataSourceResource(p, d.ID), auditedDataSource(d, false), nil)
	})
}

// dataSourceTests bounds the connection tests per user: each dials a
// host and port, and answers tell an open port from a closed one, so
// unbounded tests would make the control plane a port scanner.
const (
	dataSourceTestLimit  = 10
	dataSourceTestPeriod = time.Minute
)

// testDataSource connects to the saved data source and says how long it
// took; a failure is an answer (ok false), not an error of the call. It
// takes no parameters: only the host and port an edit already saved (and
// audited) are dialled, never ones sent with the test (wrap refuses a body).
func (c *call) testDataSource() (any, error) {
	if wait, ok := c.s.dsTests.allow(c.user.ID, c.s.now()); !ok {
		c.s.log.Warn("data source test refused: rate limit", "user", c.user.Username, "client", clientAddr(c.r))
		return nil, &tooMany{retryAfter: wait, detail: fmt.Sprintf(
			"at most %d data source tests a minute: try again in %d seconds", dataSourceTestLimit, retryAfterSeconds(wait))}
	}
	var d spec.DataSource
	err := c.tx(func(tx store.Tx) error {
		var err error
		d, err = c.loadDataSource(tx, c.path("p"), c.path("d"))
		return err
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.ctx(), 10*time.Second)
	defer cancel()
	lat, err := sqlbackend.Ping(ctx, ptr(c.opened(d)))
	res := dataSourceTest{OK: err == nil, LatencyMS: float64(lat.Microseconds()) / 1000}
	if err != nil {
		res.Error = err.Error()
	}
	return res, nil
}

func ptr[T any](v T) *T { return &v }

// checkSQLRoute checks a route's sql backend against its data source when
// the route is saved: filter types are read from the table, the statement
// is compiled with the gateway's compiler and prepared (not run) by the
// database, and the columns it returns are recorded in result_columns.
func (c *call) checkSQLRoute(tx store.Tx, project string, r *spec.Route) error {
	be := r.Backend
	if be == nil || be.Type != "sql" || be.SQLBackend == nil {
		return nil
	}
	d, err := tx.GetDataSource(c.ctx(), project, be.DataSource)
	if errors.Is(err, store.ErrNotFound) {
		return fieldError("backend.data_source", "data source %q does not exist in project %q", be.DataSource, project)
	}
	if err != nil {
		return fmt.Errorf("data source %q: %w", be.DataSource, err)
	}
	ds := c.opened(d)
	db, err := sqlbackend.Open(&ds)
	if err != nil {
		return fieldError("backend.data_source", "%v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(c.ctx(), 10*time.Second)
	defer cancel()
	sb := *be.SQLBackend
	sb.Filters = append([]spec.SQLFilter(nil), sb.Filters...)
	if sb.SQL == "" {
		if err := sqlbackend.FillFilterTypes(ctx, db, d.Type, &sb); err != nil {
			return fieldError("backend.table", "the data source refused the table or a filter column: %v", err)
		}
	}
	st, err := sqlbackend.Compile(&sb, d.Type)
	if err != nil {
		return fieldError("backend", "%v", err)
	}
	cols, err := sqlbackend.Describe(ctx, db, st)
	if err != nil {
		field := "backend.sql"
		if sb.SQL == "" {
			field = "backend.columns"
		}
		return fieldError(field, "the data source refused the statement: %v", err)
	}
	sb.ResultColumns = cols
	nb := *be
	nb.SQLBackend = &sb
	r.Backend = &nb
	return nil
}
