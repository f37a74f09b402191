package spec

// Validation of a route's design: its parameters, their mapping, backend
// constants, response examples and error codes, each problem named by its
// JSON path.
import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// validateDesign checks the route's parameters, their mapping, the
// backend's constants, response examples and error codes.
func (r *Route) validateDesign(fe *FieldErrors) {
	if len(r.Parameters) > MaxRouteParameters {
		fe.Add("parameters", "at most %d parameters", MaxRouteParameters)
	}
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"/" + r.Name}
	}
	var be *Backend
	if r.Backend != nil {
		be = r.Backend
	}
	seen := map[string]int{}
	targets := map[string]string{} // place → field that puts something there
	var pointers []string          // body places, for prefix conflicts
	var pointerFields []string
	claim := func(field, key string) {
		if other, dup := targets[key]; dup {
			fe.Add(field, "sends the backend the same place as %s", other)
			return
		}
		targets[key] = field
	}
	claimPointer := func(field, ptr string) {
		for i, o := range pointers {
			if o == ptr {
				fe.Add(field, "sends the backend the same place as %s", pointerFields[i])
				return
			}
			if strings.HasPrefix(ptr, o+"/") || strings.HasPrefix(o, ptr+"/") {
				fe.Add(field, "overlaps %s (one body field inside the other)", pointerFields[i])
				return
			}
		}
		pointers, pointerFields = append(pointers, ptr), append(pointerFields, field)
	}
	mappedPath := false
	for i := range r.Parameters {
		p := &r.Parameters[i]
		f := fmt.Sprintf("parameters[%d]", i)
		p.validate(fe, f, paths)
		key := placeKey(p.In, p.Name)
		if p.In == "body" {
			key = "body\x00" + p.BodyPointer()
		}
		if j, dup := seen[key]; dup {
			fe.Add(f+".name", "parameters[%d] has the same name and in", j)
			continue
		}
		seen[key] = i
		// Where the backend gets it: its mapping, and (unmapped or kept)
		// where the client sent it. Path and cookie places are the
		// client's own and cannot collide.
		if t := p.Backend; t != nil {
			switch t.In {
			case "body":
				if t.Pointer != "" {
					claimPointer(f+".backend.pointer", t.Pointer)
				}
			case "query", "header", "path":
				claim(f+".backend.name", placeKey(t.In, t.Name))
			}
			if p.In == "path" && !t.Keep {
				mappedPath = true
			}
			if t.In == "path" && (be == nil || !strings.Contains(be.Path, "{"+t.Name+"}")) {
				fe.Add(f+".backend.name", "backend.path must hold {%s} to take it", t.Name)
			}
		}
		if p.Backend == nil || p.Backend.Keep {
			switch p.In {
			case "body":
				claimPointer(f+".pointer", p.BodyPointer())
			case "query", "header":
				claim(f+".name", key)
			}
		}
	}
	if mappedPath && (be == nil || be.Path == "") {
		fe.Add("backend.path", "is required when a path parameter is mapped elsewhere (the backend path would still carry it)")
	}
	if be != nil {
		if len(be.Parameters) > MaxConstParameters {
			fe.Add("backend.parameters", "at most %d constant parameters", MaxConstParameters)
		}
		for i := range be.Parameters {
			c := &be.Parameters[i]
			f := fmt.Sprintf("backend.parameters[%d]", i)
			c.validate(fe, f)
			switch c.In {
			case "body":
				if c.Pointer != "" {
					claimPointer(f+".pointer", c.Pointer)
				}
			case "query", "header":
				claim(f+".name", placeKey(c.In, c.Name))
			}
		}
		switch {
		case be.Type == BackendSQL && r.HasMapping():
			fe.Add("backend.type", "a sql backend reads the request itself: parameters cannot be mapped or given defaults or constants")
		case be.Type == BackendComposite && r.HasMapping():
			fe.Add("backend.type", "a composite backend builds its calls from the request itself: parameters cannot be mapped or given defaults or constants")
		}
	}
	validateResponses(fe, r.Responses)
	validateErrors(fe, r.Errors)
}

func (p *Parameter) validate(fe *FieldErrors, f string, paths []string) {
	switch p.In {
	case "query":
		if !routeParamNameRe.MatchString(p.Name) {
			fe.Add(f+".name", "must be 1–100 letters, digits, '_', '-', '.', '[' or ']'")
		}
	case "header":
		if !validHeaderName(p.Name) {
			fe.Add(f+".name", "must be a header name (an RFC 9110 token)")
		}
	case "cookie":
		if !cookieNameRe.MatchString(p.Name) {
			fe.Add(f+".name", "must be a cookie name")
		}
	case "path":
		switch {
		case !pathNameRe.MatchString(p.Name):
			fe.Add(f+".name", "must be a path parameter name (letters, digits and '_', not starting with a digit)")
		case !captured(paths, p.Name):
			fe.Add(f+".name", "is not a parameter of the route's paths ({%s})", p.Name)
		}
		if len(p.Default) > 0 {
			fe.Add(f+".default", "a path parameter is always sent: it has no default")
		}
	case "body":
		if p.Name == "" {
			fe.Add(f+".name", "is required")
		}
		if p.Pointer != "" {
			toks, err := ParsePointer(p.Pointer)
			switch {
			case err != nil:
				fe.Add(f+".pointer", "%v", err)
			case toks[len(toks)-1] != p.Name:
				fe.Add(f+".pointer", "must end with the member %q (the parameter's name)", p.Name)
			}
		} else if len(p.Name) > 100 {
			fe.Add(f+".name", "must be at most 100 characters")
		}
	case "":
		fe.Add(f+".in", "is required")
	default:
		fe.Add(f+".in", "must be query, path, header, cookie or body")
	}
	if p.In != "body" && p.Pointer != "" {
		fe.Add(f+".pointer", "applies to body parameters only")
	}
	typ := p.TypeOf()
	if !containsString(ParameterTypes, typ) {
		fe.Add(f+".type", "must be one of %s", strings.Join(ParameterTypes, ", "))
		return
	}
	if (typ == "object" || typ == "array") && p.In == "path" {
		fe.Add(f+".type", "a path parameter is one segment: string, integer, number or boolean")
	}
	if len(p.Format) > 50 {
		fe.Add(f+".format", "must be at most 50 characters")
	}
	if len(p.Description) > 4096 {
		fe.Add(f+".description", "must be at most 4096 characters")
	}
	if len(p.Default) > 0 && !matchesType(p.Default, typ) {
		fe.Add(f+".default", "must be a JSON %s", typ)
	}
	if len(p.Enum) > 100 {
		fe.Add(f+".enum", "at most 100 values")
	}
	for j, v := range p.Enum {
		if !matchesType(v, typ) {
			fe.Add(fmt.Sprintf("%s.enum[%d]", f, j), "must be a JSON %s", typ)
		}
	}
	if len(p.Default) > 0 && len(p.Enum) > 0 && !containsJSON(p.Enum, p.Default) {
		fe.Add(f+".default", "is not one of enum")
	}
	if t := p.Backend; t != nil {
		t.validate(fe, f+".backend.")
		if t.In == p.In && (t.In == "body" && t.Pointer == p.BodyPointer() || t.In != "body" && placeKey(t.In, t.Name) == placeKey(p.In, p.Name)) {
			fe.Add(f+".backend", "maps the parameter to where it already is")
		}
		if t.In == "path" && (typ == "object" || typ == "array") {
			fe.Add(f+".backend.in", "an object or array cannot be a path segment")
		}
	}
}

func (t *ParameterTarget) validate(fe *FieldErrors, f string) {
	validatePlace(fe, f, t.In, t.Name, t.Pointer, "target", true)
}

func (c *ConstParameter) validate(fe *FieldErrors, f string) {
	validatePlace(fe, f+".", c.In, c.Name, c.Pointer, "constant", false)
	v := bytes.TrimSpace(c.Value)
	switch {
	case len(v) == 0:
		fe.Add(f+".value", "is required")
	case !json.Valid(v):
		fe.Add(f+".value", "must be JSON")
	case c.In != "body" && v[0] != '"' && !matchesType(v, "number") && !matchesType(v, "boolean"):
		fe.Add(f+".value", "must be a string, number or boolean")
	case len(v) > maxParameterValueLen:
		fe.Add(f+".value", "must be at most %d bytes", maxParameterValueLen)
	case c.In == "header":
		if s, _ := ScalarText(v); strings.ContainsAny(s, "\r\n\x00") {
			fe.Add(f+".value", "must not hold CR, LF or NUL")
		}
	}
}

// validatePlace checks a place of the backend request a mapping target or
// a constant (what) names; prefix ends with the dot before its members.
// path is a target's only: a constant has no client value to fill it.
func validatePlace(fe *FieldErrors, prefix, in, name, pointer, what string, path bool) {
	switch {
	case in == "query":
		if !routeParamNameRe.MatchString(name) {
			fe.Add(prefix+"name", "must be 1–100 letters, digits, '_', '-', '.', '[' or ']'")
		}
	case in == "header":
		switch {
		case !validHeaderName(name):
			fe.Add(prefix+"name", "must be a header name (an RFC 9110 token)")
		case reservedHeader(name):
			fe.Add(prefix+"name", "%s frames or routes the request: it cannot be set", name)
		}
	case in == "path" && path:
		if !pathNameRe.MatchString(name) {
			fe.Add(prefix+"name", "must be a {name} of backend.path (letters, digits and '_')")
		}
	case in == "body":
		if name != "" {
			fe.Add(prefix+"name", "a body %s is named by pointer", what)
		}
		if _, err := ParsePointer(pointer); err != nil {
			fe.Add(prefix+"pointer", "%v", err)
		}
	case in == "":
		fe.Add(prefix+"in", "is required")
	case path:
		fe.Add(prefix+"in", "must be query, path, header or body")
	default:
		fe.Add(prefix+"in", "must be query, header or body")
	}
	if in != "body" && pointer != "" {
		fe.Add(prefix+"pointer", "applies to a body %s only", what)
	}
}

// ScalarText is the text a JSON scalar is sent as in a query or header:
// a string's contents, a number or boolean as written; ok is false for
// null, objects and arrays (their compact JSON is returned).
func ScalarText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s, true
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return string(v), false
	}
	s := buf.String()
	return s, len(s) > 0 && s[0] != '{' && s[0] != '[' && s != "null"
}

func validateResponses(fe *FieldErrors, rs []ResponseExample) {
	if len(rs) > MaxResponseExamples {
		fe.Add("responses", "at most %d examples", MaxResponseExamples)
	}
	seen := map[string]bool{}
	for i, x := range rs {
		f := fmt.Sprintf("responses[%d]", i)
		if x.Status < 100 || x.Status > 599 {
			fe.Add(f+".status", "must be an HTTP status (100–599)")
		}
		ct := x.ContentType
		if ct == "" {
			ct = "application/json"
		}
		if !mediaTypeRe.MatchString(ct) {
			fe.Add(f+".content_type", "must be a media type such as application/json")
		}
		k := fmt.Sprintf("%d %s", x.Status, strings.ToLower(ct))
		if seen[k] {
			fe.Add(f+".status", "another example has this status and content type")
		}
		seen[k] = true
		switch ex := bytes.TrimSpace(x.Example); {
		case len(ex) == 0:
			fe.Add(f+".example", "is required")
		case !json.Valid(ex):
			fe.Add(f+".example", "must be JSON (a string for a text example)")
		case len(ex) > maxExampleBytes:
			fe.Add(f+".example", "must be at most %d bytes", maxExampleBytes)
		}
		if len(x.Description) > 4096 {
			fe.Add(f+".description", "must be at most 4096 characters")
		}
	}
}

var (
	mediaTypeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$`)
	errorCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)
)

func validateErrors(fe *FieldErrors, es []ErrorCode) {
	if len(es) > MaxErrorCodes {
		fe.Add("errors", "at most %d error codes", MaxErrorCodes)
	}
	seen := map[string]int{}
	for i, e := range es {
		f := fmt.Sprintf("errors[%d]", i)
		if !errorCodeRe.MatchString(e.Code) {
			fe.Add(f+".code", "must be 1–64 letters, digits, '_', '.', ':' or '-'")
		} else if j, dup := seen[e.Code]; dup {
			fe.Add(f+".code", "errors[%d] has the same code", j)
		} else {
			seen[e.Code] = i
		}
		if e.Status < 400 || e.Status > 599 {
			fe.Add(f+".status", "must be an error status (400–599)")
		}
		if e.Message == "" {
			fe.Add(f+".message", "is required")
		} else if len(e.Message) > 500 {
			fe.Add(f+".message", "must be at most 500 characters")
		}
		if len(e.Description) > 4096 {
			fe.Add(f+".description", "must be at most 4096 characters")
		}
	}
}

// matchesType reports whether the JSON value v is of parameter type typ.
func matchesType(v json.RawMessage, typ string) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || !json.Valid(v) {
		return false
	}
	switch typ {
	case "string":
		return v[0] == '"'
	case "boolean":
		return string(v) == "true" || string(v) == "false"
	case "array":
		return v[0] == '['
	case "object":
		return v[0] == '{'
	case "number", "integer":
		if v[0] == '"' {
			return false
		}
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if dec.Decode(&n) != nil {
			return false
		}
		if typ == "number" {
			return true
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

func containsJSON(list []json.RawMessage, v json.RawMessage) bool {
	var want any
	if json.Unmarshal(v, &want) != nil {
		return false
	}
	wb, _ := json.Marshal(want)
	for _, x := range list {
		var got any
		if json.Unmarshal(x, &got) != nil {
			continue
		}
		if gb, _ := json.Marshal(got); bytes.Equal(gb, wb) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
