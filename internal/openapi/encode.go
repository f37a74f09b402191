package openapi

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

var jsonMarshalerType = reflect.TypeFor[json.Marshaler]()

// encodeDocument is json.Marshal(m), the same bytes, for a document's
// MarshalYAML form, with the members of its components' sections encoded
// in parallel: they are most of a large document, and kin-openapi's
// encoding of a schema (a map made for all its keywords) is slow.
func encodeDocument(m map[string]any) ([]byte, error) {
	c, ok := m["components"].(*openapi3.Components)
	if !ok || c == nil {
		return json.Marshal(m)
	}
	y, err := c.MarshalYAML()
	if err != nil {
		return nil, err
	}
	sections, ok := y.(map[string]any)
	if !ok {
		return json.Marshal(m)
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
		out[i], err = json.Marshal(members[i].v)
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
		} else if comps[s], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	top := make(map[string][]byte, len(m))
	for k, v := range m {
		if k == "components" {
			top[k] = appendObject(nil, comps)
		} else if top[k], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	return appendObject(nil, top), nil
}

// appendObject appends the JSON object of members (their values encoded
// already) as json.Marshal writes a map: names sorted and escaped alike.
func appendObject(dst []byte, members map[string][]byte) []byte {
	size := 2
	for k, v := range members {
		size += len(k) + len(v) + 4
	}
	dst = slices.Grow(dst, size)
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
