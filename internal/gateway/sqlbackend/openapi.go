package sqlbackend

import (
	"github.com/portico-gw/portico/internal/spec"
)

// Operation is the part of an OpenAPI 3.1 Operation object a generated
// data API derives from its definition (its description file):
// parameters with their types (page, page_size and total for a paged
// statement), a JSON request body for body fields, and the 200 response
// whose items have the columns the data source described when the route
// was saved (result_columns). internal/openapi merges it into the route's
// operation; keys the stored operation already has win there.
func Operation(be *spec.SQLBackend) map[string]any {
	op := map[string]any{}
	var params []any
	body := map[string]any{}
	var required []any
	add := func(name, in, typ string, req bool, desc string) {
		schema := map[string]any{"type": typ}
		if in == "body" {
			body[name] = schema
			if req {
				required = append(required, name)
			}
			return
		}
		if in == "" {
			in = "query"
		}
		p := map[string]any{"name": name, "in": in, "schema": schema}
		if req || in == "path" {
			p["required"] = true
		}
		if desc != "" {
			p["description"] = desc
		}
		params = append(params, p)
	}
	paged := be.SQL == ""
	if be.SQL != "" {
		for i := range be.Params {
			p := &be.Params[i]
			field := p.Field
			if field == "" {
				field = p.Name
			}
			add(field, p.In, orString(p.Type), p.IsRequired(), "")
		}
		if parts, err := splitScript(be.SQL, spec.DataSourcePostgres); err == nil {
			switch firstKeyword(joinText(parts)) {
			case "select", "with", "values", "table":
				paged = true
			}
		}
	} else {
		for _, f := range be.Filters {
			typ := orString(f.Type)
			desc := "filter: " + orColumn(f) + " " + orOp(f.Op)
			if f.Op == "in" {
				desc += " (comma-separated list)"
			}
			add(f.Param, f.In, typ, f.Required, desc)
		}
	}
	item := map[string]any{"type": "object"}
	if len(be.ResultColumns) > 0 {
		props := map[string]any{}
		for _, c := range be.ResultColumns {
			s := map[string]any{"type": []any{c.Type, "null"}}
			if c.Database != "" {
				s["description"] = c.Database
			}
			props[c.Name] = s
		}
		item["properties"] = props
	}
	resp := map[string]any{"type": "object", "required": []any{"items"},
		"properties": map[string]any{"items": map[string]any{"type": "array", "items": item}}}
	if paged {
		max := be.MaxPageSize
		if max == 0 {
			max = DefaultMaxPageSize
		}
		params = append(params,
			map[string]any{"name": "page", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "default": 1}},
			map[string]any{"name": "page_size", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": max}},
			map[string]any{"name": "total", "in": "query", "schema": map[string]any{"type": "boolean"}, "description": "also count every matching row"})
		props := resp["properties"].(map[string]any)
		props["page"] = map[string]any{"type": "integer"}
		props["page_size"] = map[string]any{"type": "integer"}
		props["total"] = map[string]any{"type": "integer"}
	} else if be.SQL != "" && !hasReturning(be.SQL) {
		resp = map[string]any{"type": "object", "properties": map[string]any{"rows_affected": map[string]any{"type": "integer"}}}
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if len(body) > 0 {
		schema := map[string]any{"type": "object", "properties": body}
		if len(required) > 0 {
			schema["required"] = required
		}
		op["requestBody"] = map[string]any{"required": len(required) > 0,
			"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	errResp := map[string]any{"description": "the gateway's error: a missing or mistyped parameter names it"}
	op["responses"] = map[string]any{
		"200": map[string]any{"description": "rows of the data source",
			"content": map[string]any{"application/json": map[string]any{"schema": resp}}},
		"400": errResp,
		"503": map[string]any{"description": "every connection to the data source is in use"},
		"504": map[string]any{"description": "the query did not finish within the route's timeout"},
	}
	return op
}

func orString(t string) string {
	if t == "" {
		return "string"
	}
	return t
}

func orColumn(f spec.SQLFilter) string {
	if f.Column != "" {
		return f.Column
	}
	return f.Param
}

func orOp(op string) string {
	if op == "" {
		return "="
	}
	return op
}

func joinText(parts []scriptPart) string {
	s := ""
	for _, p := range parts {
		s += p.text
	}
	return s
}

func hasReturning(sql string) bool {
	parts, err := splitScript(sql, spec.DataSourcePostgres)
	return err == nil && hasWord(parts, "returning")
}
