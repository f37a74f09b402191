package requestvalidation

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// kind is what a parameter's text is read as before its schema checks
// it: JSON Schema validates typed values, a query holds strings.
type kind uint8

const (
	kindString kind = iota // also: no single type declared
	kindInteger
	kindNumber
	kindBoolean
	kindArray
	kindJSON // content: application/json, the value is a JSON text
	kindSkip // a style or type this plugin does not read: only presence is checked
)

// param is one compiled operation parameter.
type param struct {
	in, name string
	field    string // "query.limit"
	required bool
	// allowEmpty: an empty query value is accepted as it is.
	allowEmpty bool
	kind       kind
	item       kind // an array's items
	explode    bool // an array repeats the parameter (form, explode)
	sep        byte // an array's separator otherwise
	schema     *openapi3.Schema
}

// compileParams reads the operation's parameters; a parameter without a
// schema is checked for presence only.
func compileParams(ps openapi3.Parameters) ([]param, error) {
	var out []param
	for _, ref := range ps {
		p := ref.Value
		if p == nil {
			continue
		}
		switch p.In {
		case openapi3.ParameterInQuery, openapi3.ParameterInPath, openapi3.ParameterInHeader, openapi3.ParameterInCookie:
		default:
			return nil, fmt.Errorf("parameter %q: in %q is not a parameter location", p.Name, p.In)
		}
		c := param{in: p.In, name: p.Name, field: p.In + "." + p.Name, required: p.Required || p.In == openapi3.ParameterInPath,
			allowEmpty: p.AllowEmptyValue}
		switch {
		case p.Schema != nil && p.Schema.Value != nil:
			c.schema = p.Schema.Value
			c.kind = kindOf(c.schema)
			if c.kind == kindArray {
				c.item = kindSkip
				if it := c.schema.Items; it != nil && it.Value != nil {
					c.item = kindOf(it.Value)
				}
				if c.item == kindArray || c.item == kindJSON {
					c.item = kindSkip
				}
				sm, err := p.SerializationMethod()
				if err != nil {
					return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
				}
				c.explode, c.sep = sm.Explode, ','
				switch sm.Style {
				case openapi3.SerializationForm, openapi3.SerializationSimple:
				case openapi3.SerializationSpaceDelimited:
					c.sep = ' '
				case openapi3.SerializationPipeDelimited:
					c.sep = '|'
				default: // label, matrix: not read
					c.kind = kindSkip
				}
				if c.in != openapi3.ParameterInQuery {
					c.explode = false // simple style: one comma-separated value
				}
			} else if p.Style != "" && p.Style != openapi3.SerializationForm && p.Style != openapi3.SerializationSimple {
				c.kind = kindSkip
			}
		case len(p.Content) > 0:
			c.kind = kindSkip
			for name, mt := range p.Content {
				if isJSON(strings.ToLower(mediaTypeOf(name))) && mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					c.kind, c.schema = kindJSON, mt.Schema.Value
				}
			}
		default:
			c.kind = kindSkip
		}
		if c.in == openapi3.ParameterInPath && c.kind == kindString && plainString(c.schema) {
			continue // what the export declares for a route's path parameter: any captured text passes
		}
		out = append(out, c)
	}
	// Path, query, header, cookie: the order the answer lists them in.
	slices.SortStableFunc(out, func(a, b param) int { return locRank(a.in) - locRank(b.in) })
	return out, nil
}

func locRank(in string) int {
	switch in {
	case openapi3.ParameterInPath:
		return 0
	case openapi3.ParameterInQuery:
		return 1
	case openapi3.ParameterInHeader:
		return 2
	}
	return 3
}

// plainString reports whether s accepts every string.
func plainString(s *openapi3.Schema) bool {
	b, err := json.Marshal(s)
	return err == nil && string(b) == `{"type":"string"}`
}

// kindOf is the one type a schema declares (null aside), else string.
func kindOf(s *openapi3.Schema) kind {
	if s.Type == nil {
		return kindString
	}
	k, n := kindString, 0
	for _, t := range *s.Type {
		switch t {
		case openapi3.TypeNull:
			continue
		case openapi3.TypeInteger:
			k = kindInteger
		case openapi3.TypeNumber:
			k = kindNumber
		case openapi3.TypeBoolean:
			k = kindBoolean
		case openapi3.TypeArray:
			k = kindArray
		case openapi3.TypeObject:
			k = kindSkip // deepObject and friends: not read
		default:
			k = kindString
		}
		n++
	}
	if n != 1 {
		return kindString // several types: the text is checked as it is
	}
	return k
}

// check validates the parameter's value in ex, adding what is wrong.
func (p *param) check(ex *plugin.Exchange, opts []openapi3.SchemaValidationOption, errs *fieldErrors) {
	var raw string
	var found bool
	var query []string // every value of an exploded query array
	switch p.in {
	case openapi3.ParameterInQuery:
		if p.kind == kindArray && p.explode {
			query = queryValues(ex.RawQuery(), p.name)
			found = len(query) > 0
		} else {
			raw, found = queryValue(ex.RawQuery(), p.name)
		}
	case openapi3.ParameterInPath:
		// A path parameter the matched pattern does not capture (a
		// wildcard's, or another of the route's paths) is not the
		// client's to send.
		raw = ex.PathParam(p.name)
		if raw == "" {
			return
		}
		found = true
	case openapi3.ParameterInHeader:
		vs := ex.HeaderValues(p.name)
		found = len(vs) > 0
		if found {
			raw = vs[0]
		}
	case openapi3.ParameterInCookie:
		raw = ex.Cookie(p.name)
		found = raw != ""
	}
	if !found {
		if p.required {
			errs.add(p.field, "required")
		}
		return
	}
	if p.kind == kindSkip || p.schema == nil {
		return
	}
	if raw == "" && query == nil && p.allowEmpty {
		return
	}
	var v any
	var msg string
	switch {
	case query != nil:
		items := make([]any, len(query))
		for i, s := range query {
			if items[i], msg = convert(s, p.item); msg != "" {
				errs.add(p.field+"["+strconv.Itoa(i)+"]", msg)
				return
			}
		}
		v = items
	case p.kind == kindArray:
		parts := strings.Split(raw, string(p.sep))
		items := make([]any, len(parts))
		for i, s := range parts {
			if items[i], msg = convert(s, p.item); msg != "" {
				errs.add(p.field+"["+strconv.Itoa(i)+"]", msg)
				return
			}
		}
		v = items
	default:
		if v, msg = convert(raw, p.kind); msg != "" {
			errs.add(p.field, msg)
			return
		}
	}
	if err := p.schema.VisitJSON(v, opts...); err != nil {
		errs.schema(p.field, err)
	}
}

// convert reads text as k's values are written.
func convert(s string, k kind) (any, string) {
	switch k {
	case kindInteger:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) || strings.ContainsAny(s, "xXpP_") {
			return nil, "value must be an integer"
		}
		return f, ""
	case kindNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(s, "xXpP_") {
			return nil, "value must be a number"
		}
		return f, ""
	case kindBoolean:
		switch s {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, "value must be true or false"
	case kindJSON:
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, "value must be JSON"
		}
		return v, ""
	case kindSkip:
		return s, ""
	}
	return s, ""
}

// queryValue finds the first value of name in a raw query without
// allocating unless it is percent-encoded.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if keyIs(k, name) {
			return unescape(v), true
		}
	}
	return "", false
}

// queryValues are every value of name in a raw query, in order.
func queryValues(raw, name string) []string {
	var out []string
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if keyIs(k, name) {
			out = append(out, unescape(v))
		}
	}
	return out
}

func keyIs(k, name string) bool {
	if k == name {
		return true
	}
	if !strings.ContainsAny(k, "%+") {
		return false
	}
	return unescape(k) == name
}

// unescape decodes a query component; one that does not decode is kept
// as sent (and fails its schema as such).
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
