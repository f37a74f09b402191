package adminapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// parseJSON reads exactly one JSON value. Numbers stay json.Number, so a
// merge patch does not round integers through float64.
func parseJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fieldError("body", "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fieldError("body", "must hold exactly one JSON value")
	}
	return doc, nil
}

// strictDecode reads the body strictly into v: exactly one JSON value, member
// names spelt exactly as documented, no unknown members, every value of the
// right JSON kind. Each problem is a field error naming the member by its
// JSON path, all of them at once (encoding/json alone stops at the first,
// names unknown members without their path and matches names regardless of
// case).
func strictDecode(b []byte, v any) error {
	doc, err := parseJSON(b)
	if err != nil {
		return err
	}
	var fe spec.FieldErrors
	checkShape(doc, reflect.TypeOf(v), "", &fe)
	if err := fe.Err(); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// valueKind is the kind of JSON value a Go type is read from and written
// as. kindOf is the one place that decides it: the strict decoder checks
// values against it, its errors name it (want) and the OpenAPI schema
// describes it, so they cannot disagree on a type.
type valueKind int

const (
	kindAny    valueKind = iota // any JSON value: json.RawMessage, interfaces, custom decoders
	kindTime                    // an RFC 3339 date-time string
	kindString                  //
	kindBool                    //
	kindInt                     // a signed integer of t.Bits() bits
	kindUint                    // a non-negative integer of t.Bits() bits
	kindFloat                   //
	kindBytes                   // a base64 string ([]byte)
	kindArray                   // items of t.Elem()
	kindMap                     // an object whose members are t.Elem()
	kindStruct                  // an object with the members structFields lists
)

// want says what a value of kind k must be, for "must be …" errors.
func (k valueKind) want() string {
	switch k {
	case kindTime:
		return "an RFC 3339 date-time string"
	case kindString:
		return "a string"
	case kindBool:
		return "a boolean"
	case kindInt:
		return "an integer"
	case kindUint:
		return "a non-negative integer"
	case kindFloat:
		return "a number"
	case kindBytes:
		return "a base64 string"
	case kindArray:
		return "an array"
	case kindMap, kindStruct:
		return "an object"
	}
	return "a JSON value"
}

// kindOf answers the JSON kind of t and t without its pointers. A struct
// with its own UnmarshalJSON (spec.Node) is still kindStruct: the custom
// decoders of spec accept exactly their tagged fields. Any other custom
// decoder is kindAny, left to itself.
func kindOf(t reflect.Type) (reflect.Type, valueKind) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return t, kindTime
	case t == rawType || t.Kind() == reflect.Interface:
		return t, kindAny
	case t.Kind() != reflect.Struct && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)):
		return t, kindAny
	}
	switch t.Kind() {
	case reflect.String:
		return t, kindString
	case reflect.Bool:
		return t, kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return t, kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return t, kindUint
	case reflect.Float32, reflect.Float64:
		return t, kindFloat
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return t, kindBytes
		}
		return t, kindArray
	case reflect.Map:
		return t, kindMap
	case reflect.Struct:
		return t, kindStruct
	}
	return t, kindAny
}

// checkShape compares a value parsed by parseJSON with the Go type it is
// about to be decoded into and adds a field error for every member the type
// lacks and every value of the wrong kind. null is accepted anywhere, as
// encoding/json does (it leaves the target unchanged).
func checkShape(v any, t reflect.Type, path string, fe *spec.FieldErrors) {
	if v == nil {
		return
	}
	t, kind := kindOf(t)
	switch kind {
	case kindAny:
	case kindTime:
		s, ok := v.(string)
		if !ok {
			wrongKind(fe, path, kind.want(), v)
		} else if _, err := time.Parse(time.RFC3339, s); err != nil {
			fe.Add(fieldName(path), "must be an RFC 3339 date-time")
		}
	case kindStruct:
		m, ok := v.(map[string]any)
		if !ok {
			wrongKind(fe, path, kind.want(), v)
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				fe.Add(member(path, k), "is not a known field")
				continue
			}
			checkShape(m[k], ft, member(path, k), fe)
		}
	case kindMap:
		m, ok := v.(map[string]any)
		if !ok {
			wrongKind(fe, path, kind.want(), v)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			checkShape(m[k], t.Elem(), member(path, k), fe)
		}
	case kindBytes:
		if _, ok := v.(string); !ok {
			wrongKind(fe, path, kind.want(), v)
		}
	case kindArray:
		a, ok := v.([]any)
		if !ok {
			wrongKind(fe, path, kind.want(), v)
			return
		}
		for i, x := range a {
			checkShape(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i), fe)
		}
	case kindString:
		if _, ok := v.(string); !ok {
			wrongKind(fe, path, kind.want(), v)
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			wrongKind(fe, path, kind.want(), v)
		}
	case kindInt:
		checkNumber(fe, path, v, kind.want(), func(s string) error { _, err := strconv.ParseInt(s, 10, t.Bits()); return err })
	case kindUint:
		checkNumber(fe, path, v, kind.want(), func(s string) error { _, err := strconv.ParseUint(s, 10, t.Bits()); return err })
	case kindFloat:
		checkNumber(fe, path, v, kind.want(), func(s string) error { _, err := strconv.ParseFloat(s, t.Bits()); return err })
	}
}

func checkNumber(fe *spec.FieldErrors, path string, v any, want string, parse func(string) error) {
	n, ok := v.(json.Number)
	if !ok {
		wrongKind(fe, path, want, v)
		return
	}
	if err := parse(n.String()); errors.Is(err, strconv.ErrRange) {
		fe.Add(fieldName(path), "is out of range")
	} else if err != nil {
		fe.Add(fieldName(path), "must be %s, not %s", want, n)
	}
}

func wrongKind(fe *spec.FieldErrors, path, want string, v any) {
	got := "null"
	switch v.(type) {
	case string:
		got = "string"
	case json.Number, float64:
		got = "number"
	case bool:
		got = "boolean"
	case map[string]any:
		got = "object"
	case []any:
		got = "array"
	}
	fe.Add(fieldName(path), "must be %s, not %s", want, got)
}

// member is the JSON path of member k of the object at path.
func member(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// fieldName names the document itself "body".
func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// jsonFields maps the member names of struct t to the field types, as
// structFields lists them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range structFields(t) {
		out[f.name] = f.typ
	}
	return out
}

// jsonField is one member of a struct's JSON object.
type jsonField struct {
	name  string
	typ   reflect.Type
	owner reflect.Type // the struct declaring the field: an embedded one for promoted members
	omit  bool         // omitempty or omitzero: left out when zero
	// enum lists the values a string member takes, from its enum:"a,b"
	// tag (plugin configurations): the schema offers them, the plugin's
	// constructor refuses others (routing's catalogue test holds the two
	// together).
	enum []string
	// def is the value the plugin takes when the member is left out, from
	// its default:"…" tag (plugin configurations), as JSON for anything
	// but a string: what an editor shows a new configuration with.
	def string
}

// internalFields are members a type carries in JSON elsewhere that are not
// part of the admin API: a data source's sealed and opened password travel
// in the snapshots sent to gateways, so their tags stay, but a client may
// neither send them nor find them in the OpenAPI document.
var internalFields = map[reflect.Type][]string{
	reflect.TypeFor[spec.DataSource]():  {"sealed", "secret"},
	reflect.TypeFor[spec.Certificate](): {"sealed", "secret"},
	reflect.TypeFor[spec.Registry]():    {"sealed", "secret"},
}

// structFields lists the members encoding/json reads and writes for struct
// t, in its order, members of embedded structs in place; internalFields
// are left out. It is the one walk of a struct's JSON shape: the strict
// decoder accepts exactly these members and the OpenAPI schema describes
// exactly these, so the two cannot disagree. Name conflicts are settled
// like encoding/json does: the shallowest field wins, at equal depth a
// tagged one, and otherwise the name is dropped.
func structFields(t reflect.Type) []jsonField {
	type candidate struct {
		jsonField
		depth  int
		tagged bool
	}
	var all []candidate
	var walk func(t reflect.Type, depth int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, depth int, seen map[reflect.Type]bool) {
		hidden := set(internalFields[t])
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name == "" && ft.Kind() == reflect.Struct {
					if !seen[ft] { // a type embedded twice on one path: encoding/json stops too
						seen[ft] = true
						walk(ft, depth+1, seen)
						delete(seen, ft)
					}
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = f.Name
			}
			if hidden[name] {
				continue
			}
			omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
			var enum []string
			if e := f.Tag.Get("enum"); e != "" {
				enum = strings.Split(e, ",")
			}
			all = append(all, candidate{jsonField{name, f.Type, t, omit, enum, f.Tag.Get("default")}, depth, tagged})
		}
	}
	walk(t, 0, map[reflect.Type]bool{t: true})

	byName := map[string][]int{}
	for i, c := range all {
		byName[c.name] = append(byName[c.name], i)
	}
	var out []jsonField
	for i, c := range all {
		rivals := byName[c.name]
		if len(rivals) > 1 && !dominant(i, rivals, func(j int) (int, bool) { return all[j].depth, all[j].tagged }) {
			continue
		}
		out = append(out, c.jsonField)
	}
	return out
}

// dominant says whether candidate i wins its name among rivals: it is the
// only shallowest one, or the only tagged one among the shallowest.
func dominant(i int, rivals []int, rank func(int) (depth int, tagged bool)) bool {
	minDepth := -1
	for _, j := range rivals {
		if d, _ := rank(j); minDepth < 0 || d < minDepth {
			minDepth = d
		}
	}
	var shallow, tagged []int
	for _, j := range rivals {
		d, tg := rank(j)
		if d != minDepth {
			continue
		}
		shallow = append(shallow, j)
		if tg {
			tagged = append(tagged, j)
		}
	}
	switch {
	case len(shallow) == 1:
		return shallow[0] == i
	case len(tagged) == 1:
		return tagged[0] == i
	}
	return false
}
