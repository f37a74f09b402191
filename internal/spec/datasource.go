package spec

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Data source types.
const (
	DataSourcePostgres = "postgres"
	DataSourceMySQL    = "mysql"
)

// DataSource is a database registered in a project (the data source centre):
// what sql backends of its routes query. The password is write-only: the
// store keeps it sealed (credential.Keyring, the data source id as
// associated data) and the admin API never answers it.
type DataSource struct {
	ID          string `json:"id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type"` // postgres | mysql
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty"` // default 5432 or 3306
	Database    string `json:"database"`
	User        string `json:"user"`
	// Password is accepted on write and never shown again.
	Password string `json:"password,omitempty"`
	// HasPassword says whether one is stored (answers only).
	HasPassword bool `json:"has_password,omitempty"`
	// Params are driver options appended to the connection string
	// (sslmode, charset, …), as given.
	Params map[string]string `json:"params,omitempty"`
	Pool   *DataSourcePool   `json:"pool,omitempty"`
	// Sealed is the encrypted password in snapshots; Secret is it opened,
	// only in the memory of the in-process gateway.
	Sealed    string    `json:"sealed,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// DataSourcePool limits what one gateway opens to a data source.
type DataSourcePool struct {
	MaxOpen int `json:"max_open,omitempty"` // default 10
	MaxIdle int `json:"max_idle,omitempty"` // default max_open
	// AcquireTimeout is how long a request waits for a free connection
	// before it is answered 503, in seconds (default 0.05).
	AcquireTimeout float64 `json:"acquire_timeout,omitempty"`
	// MaxLifetime of a connection in seconds (default 1800).
	MaxLifetime float64 `json:"max_lifetime,omitempty"`
}

var paramNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Validate checks a data source as written through the admin API.
func (d *DataSource) Validate() error {
	var fe FieldErrors
	switch {
	case d.Name == "":
		fe.Add("name", "is required")
	case !routeNameRe.MatchString(d.Name):
		fe.Add("name", "must hold only letters, digits, '_' or '-' (at most 100)")
	}
	if d.Type != DataSourcePostgres && d.Type != DataSourceMySQL {
		fe.Add("type", "must be %s or %s", DataSourcePostgres, DataSourceMySQL)
	}
	if d.Host == "" {
		fe.Add("host", "is required")
	} else if strings.ContainsAny(d.Host, " /?#@") {
		fe.Add("host", "must be a host name or an IP address")
	}
	if d.Port < 0 || d.Port > 65535 {
		fe.Add("port", "must be between 1 and 65535")
	}
	if d.Database == "" {
		fe.Add("database", "is required")
	}
	if d.User == "" {
		fe.Add("user", "is required")
	}
	for k := range d.Params {
		if !paramNameRe.MatchString(k) {
			fe.Add("params."+k, "is not an option name")
		}
	}
	if p := d.Pool; p != nil {
		if p.MaxOpen < 0 || p.MaxOpen > 1000 {
			fe.Add("pool.max_open", "must be between 1 and 1000")
		}
		if p.MaxIdle < 0 {
			fe.Add("pool.max_idle", "must not be negative")
		}
		if p.AcquireTimeout < 0 || p.AcquireTimeout > 60 {
			fe.Add("pool.acquire_timeout", "must be between 0 and 60 seconds")
		}
		if p.MaxLifetime < 0 {
			fe.Add("pool.max_lifetime", "must not be negative")
		}
	}
	return fe.Err()
}

// EffectivePort is the port, or the type's default.
func (d *DataSource) EffectivePort() int {
	switch {
	case d.Port != 0:
		return d.Port
	case d.Type == DataSourceMySQL:
		return 3306
	default:
		return 5432
	}
}

// Redacted is d as the admin API answers it: no password, sealed or not.
func (d DataSource) Redacted() DataSource {
	d.HasPassword = d.HasPassword || d.Password != "" || d.Sealed != ""
	d.Password, d.Sealed, d.Secret = "", "", ""
	return d
}

// SQLBackend is the definition of a generated data API: a
// data source plus either a wizard definition (Table, Columns, Filters,
// Order, page sizes) or a script (SQL with :name parameters declared in
// Params). It is embedded in Backend, so its fields sit beside "type".
type SQLBackend struct {
	DataSource string `json:"data_source,omitempty"`
	// Wizard mode.
	Table       string      `json:"table,omitempty"`
	Columns     []string    `json:"columns,omitempty"`
	Filters     []SQLFilter `json:"filters,omitempty"`
	Order       string      `json:"order,omitempty"` // "col", "col desc", "a, b desc"
	PageSize    int         `json:"page_size,omitempty"`
	MaxPageSize int         `json:"max_page_size,omitempty"`
	// Script mode.
	SQL    string     `json:"sql,omitempty"`
	Params []SQLParam `json:"params,omitempty"`
	// AllowWrite runs the statement in a read-write transaction; without
	// it every statement runs in a read-only one.
	AllowWrite bool `json:"allow_write,omitempty"`
	// ResultColumns are the columns the statement returns, as the data
	// source described them when the route was saved (the response schema
	// of the description file); filled by the admin API.
	ResultColumns []SQLColumn `json:"result_columns,omitempty"`
}

// SQLFilter is one filter parameter of a wizard-mode API.
type SQLFilter struct {
	Param    string `json:"param"`
	Column   string `json:"column,omitempty"` // default: param
	Op       string `json:"op,omitempty"`     // = (default), <, >, <=, >=, !=, like, in
	Type     string `json:"type,omitempty"`   // string | integer | number | boolean; default from the column
	In       string `json:"in,omitempty"`     // query (default) | path | header | body
	Required bool   `json:"required,omitempty"`
}

// SQLParam is one named parameter of a script-mode API.
type SQLParam struct {
	Name     string `json:"name"`
	Type     string `json:"type,omitempty"`  // string (default) | integer | number | boolean
	In       string `json:"in,omitempty"`    // query (default) | path | header | body
	Field    string `json:"field,omitempty"` // the query/header/body name when it differs
	Required *bool  `json:"required,omitempty"`
	// Default is used when the request does not carry the parameter.
	Default *string `json:"default,omitempty"`
}

// IsRequired: a path parameter always is; others unless a default is set
// or required is false.
func (p *SQLParam) IsRequired() bool {
	if p.In == "path" {
		return true
	}
	if p.Required != nil {
		return *p.Required
	}
	return p.Default == nil
}

// SQLColumn is one column of a statement's result.
type SQLColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`               // JSON type: string | integer | number | boolean | object
	Database string `json:"database,omitempty"` // the database's own type name
}

// SQL parameter types and sources.
var (
	SQLParamTypes   = []string{"string", "integer", "number", "boolean"}
	SQLParamSources = []string{"query", "path", "header", "body"}
	SQLFilterOps    = []string{"=", "!=", "<", ">", "<=", ">=", "like", "in"}
)

// Validate checks the shape of a sql backend; the gateway's compiler
// (sqlbackend) checks the statement itself.
func (b *SQLBackend) validate(fe *FieldErrors) {
	if b.DataSource == "" {
		fe.Add("backend.data_source", "is required")
	}
	switch {
	case b.SQL == "" && b.Table == "":
		fe.Add("backend.table", "is required (wizard mode), or give sql (script mode)")
	case b.SQL != "" && b.Table != "":
		fe.Add("backend.sql", "give either table (wizard mode) or sql (script mode), not both")
	}
	// Each mode reads its own fields only; the other's are refused,
	// not kept unread.
	if b.SQL != "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"columns", len(b.Columns) > 0}, {"filters", len(b.Filters) > 0}, {"order", b.Order != ""}} {
			if f.set {
				fe.Add("backend."+f.name, "applies to wizard mode (table) only; a script takes params")
			}
		}
	} else if b.Table != "" && len(b.Params) > 0 {
		fe.Add("backend.params", "applies to script mode (sql) only; wizard mode takes filters")
	}
	if b.PageSize < 0 || b.PageSize > 10000 {
		fe.Add("backend.page_size", "must be between 1 and 10000")
	}
	if b.MaxPageSize < 0 || b.MaxPageSize > 100000 {
		fe.Add("backend.max_page_size", "must be between 1 and 100000")
	}
	for i, f := range b.Filters {
		field := fmt.Sprintf("backend.filters[%d]", i)
		if !paramNameRe.MatchString(f.Param) {
			fe.Add(field+".param", "must be a name of letters, digits and '_'")
		}
		if f.Op != "" && !oneOf(f.Op, SQLFilterOps) {
			fe.Add(field+".op", "must be one of %s", strings.Join(SQLFilterOps, ", "))
		}
		if f.Type != "" && !oneOf(f.Type, SQLParamTypes) {
			fe.Add(field+".type", "must be one of %s", strings.Join(SQLParamTypes, ", "))
		}
		if f.In != "" && !oneOf(f.In, SQLParamSources) {
			fe.Add(field+".in", "must be one of %s", strings.Join(SQLParamSources, ", "))
		}
	}
	for i, p := range b.Params {
		field := fmt.Sprintf("backend.params[%d]", i)
		if !paramNameRe.MatchString(p.Name) {
			fe.Add(field+".name", "must be a name of letters, digits and '_'")
		}
		if p.Type != "" && !oneOf(p.Type, SQLParamTypes) {
			fe.Add(field+".type", "must be one of %s", strings.Join(SQLParamTypes, ", "))
		}
		if p.In != "" && !oneOf(p.In, SQLParamSources) {
			fe.Add(field+".in", "must be one of %s", strings.Join(SQLParamSources, ", "))
		}
	}
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}
