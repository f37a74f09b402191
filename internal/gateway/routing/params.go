package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// A route's parameter mapping (spec.Parameter.Backend, defaults,
// spec.Backend.Parameters) compiles into one request filter that runs in
// the transform phase before the route's own transform plugins (after
// authentication and validation, which see the request as the client
// sent it). A route without any pays nothing: it gets no filter. At
// request time the filter reads only the parameters it moves, builds the
// upstream query once, and touches the body only when a parameter comes
// from or goes to it.

// maxMappedBody is the largest JSON body the mapping reads and edits.
const maxMappedBody = 1 << 20

// Places of a parameter.
const (
	inQuery uint8 = iota + 1
	inHeader
	inPath
	inCookie
	inBody
)

func placeOf(in string) uint8 {
	switch in {
	case "query":
		return inQuery
	case "header":
		return inHeader
	case "path":
		return inPath
	case "cookie":
		return inCookie
	case "body":
		return inBody
	}
	return 0
}

// move is one declared parameter the filter handles: read from its place
// (from, name or ptr), given its default when absent, and written to its
// target (to; 0: back to where it was, for a default), removed from where
// the client sent it unless kept.
type move struct {
	name    string
	from    uint8
	ptr     []string
	typ     string
	def     json.RawMessage // JSON; nil: none
	defText string          // the default as query or header text
	to      uint8
	toName  string
	toPtr   []string
	keep    bool
}

// constant is a value the backend always gets.
type constant struct {
	to    uint8
	name  string
	ptr   []string
	value json.RawMessage
	text  string
}

// paramFilter is a route's compiled parameter mapping.
type paramFilter struct {
	moves  []move
	consts []constant
	// rewrite is the backend path template when a parameter goes into it;
	// nil: the engine's own rewrite applies.
	rewrite *pathTemplate
	body    bool // some parameter or constant is read from or written to the body
	query   bool // the upstream query changes
	cookies []string
}

// compileParams compiles the route's mapping; nil when it has none.
func compileParams(fe *spec.FieldErrors, field string, r *spec.Route) *paramFilter {
	if !r.HasMapping() {
		return nil
	}
	f := &paramFilter{}
	ok := true
	pointer := func(name, p string) []string {
		toks, err := spec.ParsePointer(p)
		if err != nil {
			fe.Add(name, "%v", err)
			ok = false
		}
		return toks
	}
	for i := range r.Parameters {
		p := &r.Parameters[i]
		pf := fmt.Sprintf("%s.parameters[%d]", field, i)
		if p.Backend == nil && len(p.Default) == 0 {
			continue
		}
		m := move{name: p.Name, from: placeOf(p.In), typ: p.TypeOf(), def: p.Default}
		if m.from == 0 {
			fe.Add(pf+".in", "unknown place %q", p.In)
			ok = false
			continue
		}
		if m.from == inBody {
			m.ptr = pointer(pf+".pointer", p.BodyPointer())
			f.body = true
		}
		if len(p.Default) > 0 {
			m.defText, _ = spec.ScalarText(p.Default)
		}
		if t := p.Backend; t != nil {
			m.to, m.toName, m.keep = placeOf(t.In), t.Name, t.Keep
			switch m.to {
			case inBody:
				m.toPtr = pointer(pf+".backend.pointer", t.Pointer)
				f.body = true
			case inQuery:
				f.query = true
			case 0, inCookie:
				fe.Add(pf+".backend.in", "cannot map to %q", t.In)
				ok = false
			}
		}
		if m.from == inQuery && (m.to != 0 && !m.keep || m.to == 0) {
			f.query = true
		}
		if m.from == inCookie && m.to != 0 && !m.keep {
			f.cookies = append(f.cookies, m.name)
		}
		f.moves = append(f.moves, m)
	}
	if be := r.Backend; be != nil {
		for i, c := range be.Parameters {
			cf := fmt.Sprintf("%s.backend.parameters[%d]", field, i)
			k := constant{to: placeOf(c.In), name: c.Name, value: c.Value}
			k.text, _ = spec.ScalarText(c.Value)
			switch k.to {
			case inBody:
				k.ptr = pointer(cf+".pointer", c.Pointer)
				f.body = true
			case inQuery:
				f.query = true
			case inHeader:
			default:
				fe.Add(cf+".in", "cannot send a constant in %q", c.In)
				ok = false
			}
			f.consts = append(f.consts, k)
		}
		for _, m := range f.moves {
			if m.to == inPath {
				t, err := compilePathTemplate(be.Path)
				if err != nil {
					fe.Add(field+".backend.path", "%v", err)
					return nil
				}
				f.rewrite = t
				break
			}
		}
	}
	if !ok {
		return nil
	}
	return f
}

// pathTargets are the backend.path placeholders parameters are mapped
// to: the route's paths need not capture them.
func pathTargets(r *spec.Route) []string {
	var out []string
	for i := range r.Parameters {
		if t := r.Parameters[i].Backend; t != nil && t.In == "path" {
			out = append(out, t.Name)
		}
	}
	return out
}

// value is a parameter's value as read: text (query, header, path,
// cookie) or JSON (a body field).
type value struct {
	text   string
	json   any
	isJSON bool
	set    bool
}

// OnRequest moves the route's parameters.
func (f *paramFilter) OnRequest(ex *plugin.Exchange) bool {
	var doc map[string]any
	if f.body {
		var ok bool
		if doc, ok = f.readBody(ex); !ok {
			return true
		}
	}
	var qb *queryEdit
	if f.query {
		qb = newQueryEdit(ex)
	}
	var pathVals map[string]string
	dirty := false // the body changed: it is sent anew
	for i := range f.moves {
		m := &f.moves[i]
		v := m.read(ex, doc)
		if !v.set && m.def != nil {
			v = value{text: m.defText, isJSON: true, set: true}
			_ = json.Unmarshal(m.def, &v.json)
			if m.to == 0 { // a default where the client would have sent it
				if !f.put(ex, m.name, m.from, m.name, m.ptr, m.typ, v, qb, doc, &pathVals) {
					return true
				}
				dirty = dirty || m.from == inBody
				continue
			}
		}
		if m.to == 0 {
			continue
		}
		if !m.keep {
			f.remove(ex, m, qb, doc)
			dirty = dirty || m.from == inBody && v.set
		}
		if !v.set {
			if m.to == inPath {
				ex.Reject(http.StatusBadRequest, "bad_parameter", "parameter "+m.name+" is required")
				return true
			}
			continue
		}
		if !f.put(ex, m.name, m.to, m.toName, m.toPtr, m.typ, v, qb, doc, &pathVals) {
			return true
		}
		dirty = dirty || m.to == inBody
	}
	for i := range f.consts {
		c := &f.consts[i]
		switch c.to {
		case inHeader:
			ex.SetUpstreamHeader(c.name, c.text)
		case inQuery:
			qb.set(c.name, c.text)
		case inBody:
			var v any
			_ = json.Unmarshal(c.value, &v)
			setPointer(doc, c.ptr, v)
			dirty = true
		}
	}
	if len(f.cookies) > 0 {
		if c := withoutCookies(ex.Header("Cookie"), f.cookies); c == "" {
			ex.DelUpstreamHeader("Cookie")
		} else {
			ex.SetUpstreamHeader("Cookie", c)
		}
	}
	if qb != nil {
		ex.SetUpstreamQuery(qb.encode())
	}
	if f.rewrite != nil {
		ex.SetUpstreamPath(f.expand(ex, pathVals))
	}
	if dirty {
		b, err := json.Marshal(doc)
		if err == nil {
			err = ex.SetUpstreamBody(b)
		}
		if err != nil {
			ex.Reject(http.StatusInternalServerError, "parameter_mapping", "the request body could not be mapped")
			return true
		}
		if ex.Header("Content-Type") == "" {
			ex.SetUpstreamHeader("Content-Type", "application/json")
		}
	}
	return false
}

// readBody reads the client's JSON body (an object, or nothing: {}).
func (f *paramFilter) readBody(ex *plugin.Exchange) (map[string]any, bool) {
	b, err := ex.Body(maxMappedBody)
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge):
		ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the route's parameters may be read from")
		return nil, false
	case err != nil:
		ex.Reject(http.StatusBadRequest, "bad_body", "the request body could not be read")
		return nil, false
	}
	doc := map[string]any{}
	if len(bytes.TrimSpace(b)) == 0 {
		return doc, true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers pass through as written
	if err := dec.Decode(&doc); err != nil || dec.More() || doc == nil {
		ex.Reject(http.StatusBadRequest, "bad_body", "the request body must be a JSON object")
		return nil, false
	}
	return doc, true
}

func (m *move) read(ex *plugin.Exchange, doc map[string]any) value {
	var s string
	switch m.from {
	case inQuery:
		s = ex.Query(m.name)
	case inHeader:
		s = ex.Header(m.name)
	case inPath:
		s = ex.PathParam(m.name)
	case inCookie:
		s = ex.Cookie(m.name)
	case inBody:
		v, ok := getPointer(doc, m.ptr)
		if !ok || v == nil {
			return value{}
		}
		return value{json: v, isJSON: true, set: true}
	}
	return value{text: s, set: s != ""}
}

// remove takes the parameter out of where the client sent it.
func (f *paramFilter) remove(ex *plugin.Exchange, m *move, qb *queryEdit, doc map[string]any) {
	switch m.from {
	case inQuery:
		qb.del(m.name)
	case inHeader:
		ex.DelUpstreamHeader(m.name)
	case inBody:
		delPointer(doc, m.ptr)
	}
	// A path parameter leaves with the route's backend.path (validation
	// asks for one); a cookie with the Cookie header rewritten once.
}

// put writes parameter param's value v at a place (to, name or ptr);
// false when it answered (a value that cannot go there).
func (f *paramFilter) put(ex *plugin.Exchange, param string, to uint8, name string, ptr []string, typ string, v value, qb *queryEdit, doc map[string]any, pathVals *map[string]string) bool {
	if to == inBody {
		j, ok := v.asJSON(typ)
		if !ok {
			ex.Reject(http.StatusBadRequest, "bad_parameter", "parameter "+param+" must be "+article(typ))
			return false
		}
		setPointer(doc, ptr, j)
		return true
	}
	s := v.asText()
	switch to {
	case inQuery:
		qb.set(name, s)
	case inHeader:
		if !plugin.ValidHeaderValue(s) {
			ex.Reject(http.StatusBadRequest, "bad_parameter", "parameter "+param+" cannot be sent as a header")
			return false
		}
		ex.SetUpstreamHeader(name, s)
	case inPath:
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/?#") {
			ex.Reject(http.StatusBadRequest, "bad_parameter", "parameter "+param+" cannot be a path segment")
			return false
		}
		if *pathVals == nil {
			*pathVals = map[string]string{}
		}
		(*pathVals)[name] = s
	case inCookie:
		if !plugin.ValidHeaderValue(s) || strings.ContainsAny(s, ";,") {
			ex.Reject(http.StatusBadRequest, "bad_parameter", "parameter "+param+" cannot be sent as a cookie")
			return false
		}
		c := ex.Header("Cookie")
		if c != "" {
			c += "; "
		}
		ex.SetUpstreamHeader("Cookie", c+name+"="+s)
	}
	return true
}

func article(typ string) string {
	if typ == "integer" || typ == "array" || typ == "object" {
		return "an " + typ
	}
	return "a " + typ
}

// asText is the value as query or header text: a body field's string as
// it is, a number or boolean as written, an object or array as JSON.
func (v value) asText() string {
	if !v.isJSON {
		return v.text
	}
	switch x := v.json.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v.json)
	return string(b)
}

// asJSON is the value as a body field of the parameter's type: text is
// converted (an integer becomes a JSON number, a list "a,b" an array);
// false when it is not of the type.
func (v value) asJSON(typ string) (any, bool) {
	if v.isJSON {
		return v.json, true
	}
	s := v.text
	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, false
		}
		return json.Number(s), true
	case "number":
		if f, err := strconv.ParseFloat(s, 64); err != nil || !json.Valid([]byte(s)) || f != f {
			return nil, false
		}
		return json.Number(s), true
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil || s != "true" && s != "false" {
			return nil, false
		}
		return b, true
	case "array":
		parts := strings.Split(s, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, true
	case "object":
		var o map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&o) != nil || o == nil || dec.More() {
			return nil, false
		}
		return o, true
	}
	return s, true
}

// expand fills backend.path: a mapped parameter's value, else the
// route's path parameter of that name.
func (f *paramFilter) expand(ex *plugin.Exchange, vals map[string]string) string {
	var b strings.Builder
	for i, part := range f.rewrite.parts {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		if v, ok := vals[part]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(ex.PathParam(part))
		}
	}
	return b.String()
}
