// Package sqlbackend is the gateway's "sql" backend: a generated data API
// answers from a database instead of an upstream. A route's wizard or
// script definition is compiled once, at config time, into one
// parameterised statement; a request only binds typed values to it (never
// into its text), runs it in a transaction (read-only unless the route
// allows writes) on a pool kept across reloads (Registry) and streams the
// rows as JSON.
package sqlbackend

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

const (
	dialectPostgres = spec.DataSourcePostgres
	dialectMySQL    = spec.DataSourceMySQL
)

// Defaults of paging.
const (
	DefaultPageSize    = 20
	DefaultMaxPageSize = 1000
	// maxIn is how many values an "in" filter takes on MySQL, which has
	// no array parameter: the list is a fixed number of placeholders.
	maxIn = 32
)

// Source kinds of a request value.
const (
	inQuery = iota
	inPath
	inHeader
	inBody
)

// param is one value a request binds.
type param struct {
	name     string // as reported in errors
	field    string // query/header/body name, path parameter name
	in       int
	typ      string
	required bool
	def      *string
	list     bool // "in" filter: a comma-separated list
}

// Statement is a compiled sql backend: statement texts with placeholders
// and how to fill them from a request.
type Statement struct {
	Dialect string
	// Query is the statement run for a request; CountQuery counts its rows
	// (total=true); empty for statements that are not paged.
	Query      string
	CountQuery string
	params     []param
	// args are, per placeholder in Query, the index of its param; -1 and
	// -2 stand for the page's limit and offset. MySQL repeats a
	// parameter used twice; PostgreSQL numbers it once.
	args      []int
	countArgs []int
	// inSlots: for a MySQL "in" filter, args holds the same param maxIn
	// times; the binder spreads the list over them.
	paged       bool
	exec        bool // no rows: answer rows_affected
	pageSize    int
	maxPageSize int
	allowWrite  bool
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// quoteIdent quotes a checked identifier (schema.table allowed).
func quoteIdent(dialect, name string) string {
	q := `"`
	if dialect == dialectMySQL {
		q = "`"
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = q + p + q
	}
	return strings.Join(parts, ".")
}

// builder writes a statement and its placeholders.
type builder struct {
	dialect string
	sb      strings.Builder
	args    []int
	pgIndex map[int]int // param → $n, PostgreSQL
}

func (b *builder) text(s string) { b.sb.WriteString(s) }

// placeholder writes the placeholder of param i (or a page value).
func (b *builder) placeholder(i int) {
	if b.dialect == dialectMySQL {
		b.sb.WriteByte('?')
		b.args = append(b.args, i)
		return
	}
	if b.pgIndex == nil {
		b.pgIndex = map[int]int{}
	}
	n, ok := b.pgIndex[i]
	if !ok {
		b.args = append(b.args, i)
		n = len(b.args)
		b.pgIndex[i] = n
	}
	b.sb.WriteString("$" + strconv.Itoa(n))
}

const (
	argLimit  = -1
	argOffset = -2
)

// Compile checks a sql backend and builds its statement for the data
// source's dialect. It does no I/O, so the control plane's validation and
// the gateway's build run the same code: a definition the control plane
// accepts is one every gateway can compile.
func Compile(be *spec.SQLBackend, dialect string) (*Statement, error) {
	if dialect != dialectPostgres && dialect != dialectMySQL {
		return nil, fmt.Errorf("data source type %q is not supported", dialect)
	}
	st := &Statement{Dialect: dialect, pageSize: be.PageSize, maxPageSize: be.MaxPageSize, allowWrite: be.AllowWrite}
	if st.maxPageSize == 0 {
		st.maxPageSize = max(DefaultMaxPageSize, st.pageSize)
	}
	if st.pageSize == 0 {
		st.pageSize = min(DefaultPageSize, st.maxPageSize)
	}
	if st.pageSize > st.maxPageSize {
		return nil, fmt.Errorf("page_size %d is over max_page_size %d", st.pageSize, st.maxPageSize)
	}
	var err error
	if be.SQL != "" {
		err = st.compileScript(be)
	} else {
		err = st.compileWizard(be)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

var reserved = map[string]bool{"page": true, "page_size": true, "total": true}

func sourceOf(in string) int {
	switch in {
	case "path":
		return inPath
	case "header":
		return inHeader
	case "body":
		return inBody
	}
	return inQuery
}

func (st *Statement) compileWizard(be *spec.SQLBackend) error {
	d := st.Dialect
	if !identRe.MatchString(be.Table) {
		return fmt.Errorf("table %q is not a table name (letters, digits, '_', optionally schema.table)", be.Table)
	}
	cols := "*"
	if len(be.Columns) > 0 {
		q := make([]string, len(be.Columns))
		for i, c := range be.Columns {
			if !identRe.MatchString(c) || strings.Contains(c, ".") {
				return fmt.Errorf("columns[%d]: %q is not a column name", i, c)
			}
			q[i] = quoteIdent(d, c)
		}
		cols = strings.Join(q, ", ")
	}
	var where, countWhere builder
	where.dialect, countWhere.dialect = d, d
	seen := map[string]bool{}
	for i, f := range be.Filters {
		if seen[f.Param] || reserved[f.Param] {
			return fmt.Errorf("filters[%d]: parameter %q is reserved or given twice", i, f.Param)
		}
		seen[f.Param] = true
		col := f.Column
		if col == "" {
			col = f.Param
		}
		if !identRe.MatchString(col) || strings.Contains(col, ".") {
			return fmt.Errorf("filters[%d]: %q is not a column name", i, col)
		}
		op := f.Op
		if op == "" {
			op = "="
		}
		typ := f.Type
		if typ == "" {
			typ = "string"
		}
		p := param{name: f.Param, field: f.Param, in: sourceOf(f.In), typ: typ,
			required: f.Required || f.In == "path", list: op == "in"}
		idx := len(st.params)
		st.params = append(st.params, p)
		for _, b := range []*builder{&where, &countWhere} {
			if b.sb.Len() > 0 {
				b.text(" AND ")
			} else {
				b.text(" WHERE ")
			}
			b.text("(")
			qc := quoteIdent(d, col)
			switch {
			case op == "in" && d == dialectPostgres:
				b.text(qc + " = ANY(")
				b.placeholder(idx)
				b.text(")")
			case op == "in":
				b.text(qc + " IN (")
				for k := range maxIn {
					if k > 0 {
						b.text(", ")
					}
					b.placeholder(idx)
				}
				b.text(")")
			case op == "like":
				b.text(qc + " LIKE ")
				b.placeholder(idx)
			default:
				b.text(qc + " " + op + " ")
				b.placeholder(idx)
			}
			if !p.required {
				// An absent optional filter binds NULL: the statement's
				// text never depends on the request. The comparison comes
				// first so that PostgreSQL infers the parameter's type
				// from the column.
				b.text(" OR ")
				b.placeholder(idx)
				b.text(" IS NULL")
			}
			b.text(")")
		}
	}
	order, err := orderBy(d, be.Order)
	if err != nil {
		return err
	}
	var q builder
	q.dialect = d
	q.pgIndex = where.pgIndex
	q.args = where.args
	q.text("SELECT " + cols + " FROM " + quoteIdent(d, be.Table) + where.sb.String() + order + " LIMIT ")
	q.placeholder(argLimit)
	q.text(" OFFSET ")
	q.placeholder(argOffset)
	st.Query, st.args = q.sb.String(), q.args
	st.CountQuery = "SELECT count(*) FROM " + quoteIdent(d, be.Table) + countWhere.sb.String()
	st.countArgs = countWhere.args
	st.paged = true
	return nil
}

// orderBy compiles "col [asc|desc], …".
func orderBy(d, order string) (string, error) {
	if strings.TrimSpace(order) == "" {
		return "", nil
	}
	var out []string
	for _, item := range strings.Split(order, ",") {
		f := strings.Fields(item)
		if len(f) == 0 || len(f) > 2 || !identRe.MatchString(f[0]) || strings.Contains(f[0], ".") {
			return "", fmt.Errorf("order: %q is not \"column [asc|desc]\"", strings.TrimSpace(item))
		}
		s := quoteIdent(d, f[0])
		if len(f) == 2 {
			dir := strings.ToUpper(f[1])
			if dir != "ASC" && dir != "DESC" {
				return "", fmt.Errorf("order: %q is not asc or desc", f[1])
			}
			s += " " + dir
		}
		out = append(out, s)
	}
	return " ORDER BY " + strings.Join(out, ", "), nil
}

func (st *Statement) compileScript(be *spec.SQLBackend) error {
	parts, err := splitScript(be.SQL, st.Dialect)
	if err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	declared := map[string]int{}
	for i, p := range be.Params {
		if _, dup := declared[p.Name]; dup || reserved[p.Name] {
			return fmt.Errorf("params[%d]: %q is reserved or declared twice", i, p.Name)
		}
		declared[p.Name] = i
		typ := p.Type
		if typ == "" {
			typ = "string"
		}
		field := p.Field
		if field == "" {
			field = p.Name
		}
		st.params = append(st.params, param{name: p.Name, field: field, in: sourceOf(p.In), typ: typ,
			required: p.IsRequired(), def: p.Default})
	}
	used := map[string]bool{}
	var b builder
	b.dialect = st.Dialect
	for _, part := range parts {
		if part.param == "" {
			b.text(part.text)
			continue
		}
		i, ok := declared[part.param]
		if !ok {
			return fmt.Errorf("sql: parameter :%s is not declared in params", part.param)
		}
		used[part.param] = true
		b.placeholder(i)
	}
	for _, p := range be.Params {
		if !used[p.Name] {
			return fmt.Errorf("params: %q is declared but the sql does not use :%s", p.Name, p.Name)
		}
	}
	body := strings.TrimSpace(b.sb.String())
	switch kw := firstKeyword(body); kw {
	case "select", "with", "values", "table":
		// A query: paged. A script with its own LIMIT is wrapped, so the
		// page applies to what it returns.
		st.CountQuery = "SELECT count(*) FROM (" + body + ") AS portico_q"
		st.countArgs = b.args
		if hasWord(parts, "limit") {
			b.sb.Reset()
			b.text("SELECT * FROM (" + body + ") AS portico_q")
		}
		b.text(" LIMIT ")
		b.placeholder(argLimit)
		b.text(" OFFSET ")
		b.placeholder(argOffset)
		st.paged = true
	case "":
		return fmt.Errorf("sql: the statement is empty")
	default:
		// insert/update/delete/call…: writes need allow_write, and rows
		// come back only with RETURNING.
		if !be.AllowWrite {
			return fmt.Errorf("sql: a %s statement writes; set allow_write to run it", strings.ToUpper(kw))
		}
		st.exec = !hasWord(parts, "returning")
	}
	st.Query, st.args = b.sb.String(), b.args
	return nil
}

// paramList lists the request parameters, for the description file.
func (st *Statement) paramList() []param { return st.params }
