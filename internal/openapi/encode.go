package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// encodeJSON is json.Marshal(v), the same bytes, faster for kin-openapi's
// types. Each of their MarshalJSON methods encodes its MarshalYAML form
// (a map of the object's parts), and json.Marshal then checks and copies
// that encoding into its parent's, which does the same into its own: a
// schema nested five deep is scanned five times over. Here the whole tree
// is first turned into those forms (plain), then encoded once.
func encodeJSON(v any) ([]byte, error) {
	p, _, err := plain(v, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// kinPackage prefixes the packages whose types' MarshalJSON is exactly
// json.Marshal of their MarshalYAML: kin-openapi's (Header's answers its
// Parameter, whose is). plain turns only those into their MarshalYAML.
const kinPackage = "github.com/getkin/kin-openapi/"

type yamlMarshaler interface {
	MarshalYAML() (any, error)
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	yamlMarshalerType = reflect.TypeFor[yamlMarshaler]()
)

// plainDepth bounds plain's recursion; deeper, the value is left to
// json.Marshal as it is (which refuses a cycle). Decoded documents nest
// far less (load refuses over maxDepth).
const plainDepth = 4 * maxDepth

// plain is v with every kin-openapi value replaced by its MarshalYAML
// form, and maps and slices holding one rebuilt as map[string]any and
// []any, so that json.Marshal(plain(v)) writes what json.Marshal(v)
// writes without calling a MarshalJSON method. What json.Marshal would
// encode some other way (its own marshalers, structs, byte slices, maps of
// other keys) is left as it is. changed is false when the answer is v.
func plain(v any, depth int) (_ any, changed bool, _ error) {
	switch x := v.(type) {
	case nil, string, bool, float64, json.RawMessage:
		return v, false, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			p, ch, err := plain(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ch && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = p
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	case []any:
		var out []any
		for i, e := range x {
			p, ch, err := plain(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ch && out == nil {
				out = append([]any(nil), x...)
			}
			if out != nil {
				out[i] = p
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	}
	if depth > plainDepth {
		return v, false, nil
	}
	return plainValue(reflect.ValueOf(v), depth)
}

func plainValue(rv reflect.Value, depth int) (any, bool, error) {
	t := rv.Type()
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) {
		if !t.Implements(jsonMarshalerType) || !t.Implements(yamlMarshalerType) || !fromKin(t) {
			return rv.Interface(), false, nil
		}
		if t.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, true, nil // json.Marshal writes null
		}
		y, err := rv.Interface().(yamlMarshaler).MarshalYAML()
		if err != nil {
			return nil, false, fmt.Errorf("json: error calling MarshalJSON for type %v: %w", t, err)
		}
		p, _, err := plain(y, depth+1)
		return p, true, err
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if k := t.Elem().Kind(); t.Kind() == reflect.Pointer && (k == reflect.Struct || k == reflect.Array) {
			// Behind a pointer a struct's fields are addressable, and
			// json.Marshal calls their pointers' marshalers: left to it.
			return rv.Interface(), false, nil
		}
		if rv.IsNil() {
			return nil, true, nil
		}
		p, _, err := plain(rv.Elem().Interface(), depth+1)
		return p, true, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return rv.Interface(), false, nil
		}
		if rv.IsNil() {
			return nil, true, nil
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			p, _, err := plain(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, false, err
			}
			out[it.Key().String()] = p
		}
		return out, true, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return rv.Interface(), false, nil // base64, or the elements' own marshalers
		}
		if rv.IsNil() {
			return nil, true, nil
		}
		// Slice elements are addressable: json.Marshal calls a marshaler
		// of the element's pointer too.
		viaAddr := !t.Elem().Implements(jsonMarshalerType) && !t.Elem().Implements(textMarshalerType) &&
			(reflect.PointerTo(t.Elem()).Implements(jsonMarshalerType) || reflect.PointerTo(t.Elem()).Implements(textMarshalerType))
		out := make([]any, rv.Len())
		for i := range out {
			e := rv.Index(i)
			if viaAddr {
				e = e.Addr()
			}
			p, _, err := plain(e.Interface(), depth+1)
			if err != nil {
				return nil, false, err
			}
			out[i] = p
		}
		return out, true, nil
	}
	return rv.Interface(), false, nil
}

// fromKin: t (or what it points to) is one of kin-openapi's types.
func fromKin(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), kinPackage)
}

// encodeDocument is encodeJSON(m) for a document's MarshalYAML form, with
// the members of its components' sections (most of a large document)
// encoded in parallel.
func encodeDocument(m map[string]any) ([]byte, error) {
	c, ok := m["components"].(*openapi3.Components)
	if !ok || c == nil {
		return encodeJSON(m)
	}
	y, err := c.MarshalYAML()
	if err != nil {
		return nil, err
	}
	sections, ok := y.(map[string]any)
	if !ok {
		return encodeJSON(m)
	}
	type member struct {
		section, name string
		v             any
	}
	var members []member
	encoded := map[string]map[string][]byte{} // section → name → JSON
	for s, v := range sections {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String || rv.Type().Implements(jsonMarshalerType) {
			continue // an extension: encoded whole below
		}
		encoded[s] = make(map[string][]byte, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			members = append(members, member{s, it.Key().String(), it.Value().Interface()})
		}
	}
	out := make([][]byte, len(members))
	if err := parallel(len(members), func(i int) (err error) {
		out[i], err = encodeJSON(members[i].v)
		return err
	}); err != nil {
		return nil, err
	}
	for i, mb := range members {
		encoded[mb.section][mb.name] = out[i]
	}
	comps := make(map[string][]byte, len(sections))
	for s, v := range sections {
		if e, ok := encoded[s]; ok {
			comps[s] = appendObject(nil, e)
		} else if comps[s], err = encodeJSON(v); err != nil {
			return nil, err
		}
	}
	top := make(map[string][]byte, len(m))
	for k, v := range m {
		if k == "components" {
			top[k] = appendObject(nil, comps)
		} else if top[k], err = encodeJSON(v); err != nil {
			return nil, err
		}
	}
	return appendObject(nil, top), nil
}

// appendObject appends the JSON object of members (their values encoded
// already) as json.Marshal writes a map: names sorted and escaped alike.
func appendObject(dst []byte, members map[string][]byte) []byte {
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(members)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		name, _ := json.Marshal(k) // a string always encodes
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = append(dst, members[k]...)
	}
	return append(dst, '}')
}
