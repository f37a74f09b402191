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

// checkShape compares a value parsed by parseJSON with the Go type it is
// about to be decoded into and adds a field error for every member the type
// lacks and every value of the wrong kind. null is accepted anywhere, as
// encoding/json does (it leaves the target unchanged).
//
// A struct with its own UnmarshalJSON (spec.Node) is checked against its
// tagged fields: the custom decoders of spec accept exactly those. Other
// custom decoders are left to themselves.
func checkShape(v any, t reflect.Type, path string, fe *spec.FieldErrors) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return
	}
	switch {
	case t == rawType || t.Kind() == reflect.Interface:
		return
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			wrongKind(fe, path, "an RFC 3339 date-time string", v)
		} else if _, err := time.Parse(time.RFC3339, s); err != nil {
			fe.Add(fieldName(path), "must be an RFC 3339 date-time")
		}
		return
	case t.Kind() != reflect.Struct && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)):
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			wrongKind(fe, path, "an object", v)
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
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			wrongKind(fe, path, "an object", v)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			checkShape(m[k], t.Elem(), member(path, k), fe)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				wrongKind(fe, path, "a base64 string", v)
			}
			return
		}
		a, ok := v.([]any)
		if !ok {
			wrongKind(fe, path, "an array", v)
			return
		}
		for i, x := range a {
			checkShape(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i), fe)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrongKind(fe, path, "a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrongKind(fe, path, "a boolean", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		checkNumber(fe, path, v, "an integer", func(s string) error { _, err := strconv.ParseInt(s, 10, t.Bits()); return err })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		checkNumber(fe, path, v, "a non-negative integer", func(s string) error { _, err := strconv.ParseUint(s, 10, t.Bits()); return err })
	case reflect.Float32, reflect.Float64:
		checkNumber(fe, path, v, "a number", func(s string) error { _, err := strconv.ParseFloat(s, t.Bits()); return err })
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

// jsonFields maps the member names encoding/json uses for struct t to the
// field types; members of embedded structs are promoted unless a shallower
// field has the name.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, et := range embedded {
		for n, ft := range jsonFields(et) {
			if _, ok := out[n]; !ok {
				out[n] = ft
			}
		}
	}
	return out
}
