package sqlbackend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request is what binding reads a request through; plugin.Exchange
// satisfies it (tests use a map).
type Request interface {
	Query(name string) string
	PathParam(name string) string
	Header(name string) string
}

// BadParam is a parameter the request lacks or gives in the wrong type:
// the gateway answers 400 naming it.
type BadParam struct {
	Name, Problem string
}

func (e *BadParam) Error() string { return "parameter " + e.Name + ": " + e.Problem }

// maxValue bounds one bound value: hostile sizes are refused before any
// database sees them.
const maxValue = 64 << 10

// Page is the page a request asked for.
type Page struct {
	Page, Size int
	Total      bool
}

// Bind reads the statement's parameters from the request (body: the
// decoded JSON object, nil when there is none) and returns the arguments
// of Query and CountQuery, in placeholder order. Values are typed Go
// values handed to the driver as parameters, never SQL text.
func (st *Statement) Bind(r Request, body map[string]json.RawMessage) (args, countArgs []any, page Page, err error) {
	vals := make([]any, len(st.params))
	lists := make([][]any, len(st.params))
	for i := range st.params {
		p := &st.params[i]
		raw, present, err := p.raw(r, body)
		if err != nil {
			return nil, nil, page, err
		}
		if !present {
			if p.required {
				return nil, nil, page, &BadParam{p.name, "is required (" + sourceName(p.in) + ")"}
			}
			continue // NULL: an absent optional filter matches everything
		}
		if p.list {
			items := strings.Split(raw, ",")
			if len(items) > maxIn {
				return nil, nil, page, &BadParam{p.name, fmt.Sprintf("takes at most %d values", maxIn)}
			}
			typed := make([]any, len(items))
			for k, it := range items {
				if typed[k], err = convert(p, strings.TrimSpace(it)); err != nil {
					return nil, nil, page, err
				}
			}
			lists[i] = typed
			vals[i] = typedSlice(p.typ, typed)
			continue
		}
		if vals[i], err = convert(p, raw); err != nil {
			return nil, nil, page, err
		}
	}
	if st.paged {
		if page, err = st.page(r); err != nil {
			return nil, nil, page, err
		}
	}
	args = st.fill(st.args, vals, lists, page)
	if page.Total {
		countArgs = st.fill(st.countArgs, vals, lists, page)
	}
	return args, countArgs, page, nil
}

// fill lays values out in placeholder order. On MySQL an "in" list fills
// its maxIn placeholders, repeating its first value (a repeat changes
// nothing in IN (…)); its trailing "IS NULL" slot gets the first value too.
func (st *Statement) fill(order []int, vals []any, lists [][]any, page Page) []any {
	out := make([]any, len(order))
	slot := map[int]int{}
	for k, i := range order {
		switch {
		case i == argLimit:
			out[k] = int64(page.Size)
		case i == argOffset:
			out[k] = int64(page.Page-1) * int64(page.Size)
		case st.Dialect == dialectMySQL && lists[i] != nil:
			l := lists[i]
			n := slot[i]
			slot[i] = n + 1
			if n < len(l) { // past the list: padding, and the IS NULL test
				out[k] = l[n]
			} else {
				out[k] = l[0]
			}
		default:
			out[k] = vals[i]
		}
	}
	return out
}

// typedSlice makes the PostgreSQL array parameter of an "in" filter.
func typedSlice(typ string, items []any) any {
	switch typ {
	case "integer":
		s := make([]int64, len(items))
		for i, v := range items {
			s[i] = v.(int64)
		}
		return s
	case "number":
		s := make([]float64, len(items))
		for i, v := range items {
			s[i] = v.(float64)
		}
		return s
	case "boolean":
		s := make([]bool, len(items))
		for i, v := range items {
			s[i] = v.(bool)
		}
		return s
	}
	s := make([]string, len(items))
	for i, v := range items {
		s[i] = v.(string)
	}
	return s
}

func sourceName(in int) string {
	return [...]string{"query parameter", "path parameter", "header", "body field"}[in]
}

// raw finds a parameter's text in the request.
func (p *param) raw(r Request, body map[string]json.RawMessage) (string, bool, error) {
	var v string
	switch p.in {
	case inQuery:
		v = r.Query(p.field)
	case inPath:
		v = r.PathParam(p.field)
	case inHeader:
		v = r.Header(p.field)
	case inBody:
		j, ok := body[p.field]
		if !ok || string(j) == "null" {
			break
		}
		s, err := bodyText(j, p)
		if err != nil {
			return "", false, err
		}
		v = s
		if v == "" {
			return "", true, nil // an empty JSON string is a value
		}
	}
	if v == "" {
		if p.def != nil {
			return *p.def, true, nil
		}
		return "", false, nil
	}
	return v, true, nil
}

// bodyText turns a JSON body field into the text convert parses: a JSON
// string is its content, a number or boolean its literal.
func bodyText(j json.RawMessage, p *param) (string, error) {
	j = bytes.TrimSpace(j)
	switch {
	case len(j) > 0 && j[0] == '"':
		var s string
		if err := json.Unmarshal(j, &s); err != nil {
			return "", &BadParam{p.name, "is not a JSON string"}
		}
		return s, nil
	case len(j) > 0 && (j[0] == '{' || j[0] == '['):
		if p.list && j[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(j, &items); err == nil {
				parts := make([]string, len(items))
				for i, it := range items {
					s, err := bodyText(it, &param{name: p.name})
					if err != nil {
						return "", err
					}
					parts[i] = s
				}
				return strings.Join(parts, ","), nil
			}
		}
		return "", &BadParam{p.name, "must be a " + p.typ + ", not an object or array"}
	}
	return string(j), nil
}

// convert parses text into the parameter's Go type.
func convert(p *param, s string) (any, error) {
	if len(s) > maxValue {
		return nil, &BadParam{p.name, fmt.Sprintf("is longer than %d bytes", maxValue)}
	}
	switch p.typ {
	case "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &BadParam{p.name, "must be an integer"}
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &BadParam{p.name, "must be a number"}
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, &BadParam{p.name, "must be true or false"}
		}
		return b, nil
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		// Databases refuse NUL and invalid UTF-8 with an error that is
		// the client's fault: say so instead of a 502.
		return nil, &BadParam{p.name, "must be valid UTF-8 text without NUL"}
	}
	return s, nil
}

// page reads page, page_size and total.
func (st *Statement) page(r Request) (Page, error) {
	pg := Page{Page: 1, Size: st.pageSize}
	if v := r.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000_000 {
			return pg, &BadParam{"page", "must be a positive integer"}
		}
		pg.Page = n
	}
	if v := r.Query("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > st.maxPageSize {
			return pg, &BadParam{"page_size", fmt.Sprintf("must be an integer from 1 to %d", st.maxPageSize)}
		}
		pg.Size = n
	}
	if v := r.Query("total"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return pg, &BadParam{"total", "must be true or false"}
		}
		pg.Total = b
	}
	return pg, nil
}

// NeedsBody reports whether a parameter comes from the JSON body.
func (st *Statement) NeedsBody() bool {
	for i := range st.params {
		if st.params[i].in == inBody {
			return true
		}
	}
	return false
}
