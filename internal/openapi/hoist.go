package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// kin-openapi decodes an object with its UnmarshalJSON method, which
// decodes all the object holds twice (once into the fields, once more
// into a map for the extensions; a response object even re-encodes its
// contents), then calls the same method of each object inside, which does
// the same: an object nested six deep (a property of a schema of a media
// type of a response of an operation) is decoded a dozen times over.
//
// A hoister cuts that down to about once. Before an object is decoded,
// each object inside it that kin-openapi decodes as a reference object
// (SchemaRef, ParameterRef, ResponseRef, …: a schema's properties, items
// and allOf/anyOf/oneOf members, an operation's parameters, request body
// and responses, a media type's schema, …) is replaced by a placeholder
// reference ({"$ref": "#/portico-inline/N"}) and kept aside. kin-openapi
// decodes what is left, a small object, into its types; each placeholder
// becomes a reference object with that $ref, which is then filled with
// the kept object decoded the same way, on its own, by the same method
// kin-openapi would have called on it. The result is what kin-openapi
// gives for the whole object.
//
// Which members hold reference objects is known from OpenAPI's shapes.
// A guess that is wrong somewhere (a member named like one in an
// extension, say) leaves a placeholder where no reference object takes
// it: every placeholder must be filled exactly once, or the object is
// decoded by kin-openapi the plain way.

// inlinePrefix starts the placeholders' references. A document that
// holds it itself is decoded the plain way (decodeHoisted).
const inlinePrefix = "#/portico-inline/"

type hoister struct {
	kept    [][]byte // the objects replaced, by placeholder number
	filled  int
	scratch []byte // what kin-openapi decodes: it keeps none of it
}

// errHoist: a placeholder was not filled exactly once.
var errHoist = errors.New("openapi: an object taken out for decoding was not put back")

// decodeHoisted decodes raw into v (a pointer to one of kin-openapi's
// types that implements json.Unmarshaler), as v.UnmarshalJSON(raw) would,
// decoding each object inside once.
func decodeHoisted(v json.Unmarshaler, raw []byte) error {
	if bytes.Contains(raw, []byte("portico-inline")) {
		return v.UnmarshalJSON(raw)
	}
	h := &hoister{}
	if err := h.decode(reflect.ValueOf(v), raw); err != nil {
		return err
	}
	if h.filled != len(h.kept) {
		return errHoist
	}
	return nil
}

// decode decodes raw, its reference objects replaced by placeholders,
// into ptr, then fills the placeholders.
func (h *hoister) decode(ptr reflect.Value, raw []byte) error {
	b := raw
	if isObject(raw) {
		// The object's own part; reused once decoded (the placeholders'
		// objects are decoded after it).
		h.scratch = h.object(h.scratch[:0], raw)
		b = h.scratch
	}
	if err := ptr.Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
		return err
	}
	return h.fill(ptr)
}

// The members whose values (or elements, or members' values) are
// reference objects, and those whose values are not OpenAPI objects at
// all (left as they are). Links and callbacks are left whole too: a
// link's parameters and request body are any values, and a callback keeps
// its path items where fill cannot reach them.
var (
	refValue    = map[string]bool{"schema": true, "items": true, "not": true, "additionalProperties": true, "requestBody": true}
	refMembers  = map[string]bool{"properties": true, "responses": true, "headers": true, "examples": true}
	refElements = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "parameters": true}
	asIs        = map[string]bool{"example": true, "default": true, "enum": true, "const": true, "value": true, "links": true, "callbacks": true}
)

// object appends object b with its reference objects replaced by
// placeholders. An object with a $ref is appended as it is: kin-openapi
// keeps the siblings of a $ref where fill cannot reach them.
func (h *hoister) object(out, b []byte) []byte {
	hasRef := false
	if !eachMember(b, func(key string, _, _ []byte) bool {
		hasRef = key == "$ref"
		return !hasRef
	}) || hasRef {
		return append(out, b...)
	}
	mark := len(out)
	out = append(out, '{')
	first := true
	if !eachMember(b, func(key string, rawKey, val []byte) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, rawKey...)
		out = append(out, ':')
		switch {
		case strings.HasPrefix(key, "x-") || asIs[key]:
			out = append(out, val...)
		case refValue[key]:
			out = h.ref(out, val)
		case refMembers[key] && isObject(val):
			out = h.members(out, val)
		case refElements[key] && isArray(val):
			out = h.elements(out, val)
		default:
			out = h.value(out, val)
		}
		return true
	}) {
		return h.asIs(out, mark, b)
	}
	return append(out, '}')
}

// asIs undoes what was appended from mark on for b, which turned out
// malformed inside, and appends b as it is (its decoder says what is
// wrong). Placeholders made for it stay unfilled: the object is decoded
// the plain way.
func (h *hoister) asIs(out []byte, mark int, b []byte) []byte {
	h.kept = append(h.kept, b) // never filled
	return append(out[:mark], b...)
}

// value appends b, the objects in it (as objects of OpenAPI) hoisted from.
func (h *hoister) value(out, b []byte) []byte {
	switch {
	case isObject(b):
		return h.object(out, b)
	case isArray(b):
		mark := len(out)
		out = append(out, '[')
		first := true
		if !eachElement(b, func(val []byte) bool {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = h.value(out, val)
			return true
		}) {
			return h.asIs(out, mark, b)
		}
		return append(out, ']')
	}
	return append(out, b...)
}

// ref appends a placeholder for b when it is an object, else b.
func (h *hoister) ref(out, b []byte) []byte {
	if !isObject(b) {
		return append(out, b...)
	}
	n := len(h.kept)
	h.kept = append(h.kept, b)
	out = append(out, `{"$ref":"`+inlinePrefix...)
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, `"}`...)
}

// members appends object b with each member's value a placeholder (but
// extensions').
func (h *hoister) members(out, b []byte) []byte {
	mark := len(out)
	out = append(out, '{')
	first := true
	if !eachMember(b, func(key string, rawKey, val []byte) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, rawKey...)
		out = append(out, ':')
		if strings.HasPrefix(key, "x-") {
			out = append(out, val...)
		} else {
			out = h.ref(out, val)
		}
		return true
	}) {
		return h.asIs(out, mark, b)
	}
	return append(out, '}')
}

// elements appends array b with each element a placeholder.
func (h *hoister) elements(out, b []byte) []byte {
	mark := len(out)
	out = append(out, '[')
	first := true
	if !eachElement(b, func(val []byte) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = h.ref(out, val)
		return true
	}) {
		return h.asIs(out, mark, b)
	}
	return append(out, ']')
}

func isArray(raw []byte) bool {
	return len(raw) > 0 && raw[0] == '['
}

// fill walks a decoded value and fills each placeholder reference object
// in it with the object it stands for, decoded (and filled) on its own.
func (h *hoister) fill(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		if info := typeInfoOf(e.Type()); info.ref != nil {
			if ref := e.FieldByIndex(info.ref).String(); strings.HasPrefix(ref, inlinePrefix) {
				return h.fillRef(v, ref)
			}
		}
		return h.fill(e)
	case reflect.Struct:
		info := typeInfoOf(v.Type())
		if info.ext != nil {
			// kin-openapi decodes an object's members into its extensions
			// too when they are not named exactly as its fields ("Content"
			// is also decoded as content): a placeholder copied there is
			// not filled.
			for _, e := range v.FieldByIndex(info.ext).Interface().(map[string]any) {
				if holdsPlaceholder(e) {
					return errHoist
				}
			}
		}
		for _, i := range info.fields {
			if err := h.fill(v.Field(i)); err != nil {
				return err
			}
		}
		if info.mapMethod && v.CanAddr() {
			// Responses keep their members unexported; Map answers them.
			return h.fill(v.Addr().MethodByName("Map").Call(nil)[0])
		}
	case reflect.Map:
		if !typeInfoOf(v.Type()).holdsRefs {
			return nil
		}
		for it := v.MapRange(); it.Next(); {
			if err := h.fill(it.Value()); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if !typeInfoOf(v.Type()).holdsRefs {
			return nil
		}
		for i := range v.Len() {
			if err := h.fill(v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillRef decodes the object placeholder ref stands for into a new value
// of ptr's type and puts that in place of the placeholder.
func (h *hoister) fillRef(ptr reflect.Value, ref string) error {
	n, err := strconv.Atoi(ref[len(inlinePrefix):])
	if err != nil || n < 0 || n >= len(h.kept) || h.kept[n] == nil {
		return errHoist
	}
	raw := h.kept[n]
	h.kept[n] = nil // filled once only
	h.filled++
	v := reflect.New(ptr.Type().Elem())
	if err := h.decode(v, raw); err != nil {
		return err
	}
	ptr.Elem().Set(v.Elem())
	return nil
}

// holdsPlaceholder: decoded JSON v holds a placeholder reference.
func holdsPlaceholder(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.HasPrefix(x, inlinePrefix)
	case map[string]any:
		for _, e := range x {
			if holdsPlaceholder(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsPlaceholder(e) {
				return true
			}
		}
	}
	return false
}

// typeInfo is what fill needs of a type of kin-openapi's.
type typeInfo struct {
	ext       []int // the Extensions field
	ref       []int // a reference object's Ref field
	fields    []int // the exported fields that may hold reference objects
	mapMethod bool  // its pointer's Map method answers its members
	holdsRefs bool  // a value of the type may hold reference objects
}

var typeInfos sync.Map // reflect.Type → *typeInfo

func typeInfoOf(t reflect.Type) *typeInfo {
	if v, ok := typeInfos.Load(t); ok {
		return v.(*typeInfo)
	}
	info := &typeInfo{holdsRefs: holdsRefs(t)}
	if t.Kind() == reflect.Struct && fromKin(t) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && holdsRefs(f.Type) {
				info.fields = append(info.fields, i)
			}
		}
		if f, ok := t.FieldByName("Extensions"); ok && f.Type == reflect.TypeFor[map[string]any]() {
			info.ext = f.Index
		}
		if f, ok := t.FieldByName("Ref"); ok && f.Type.Kind() == reflect.String && strings.HasSuffix(t.Name(), "Ref") &&
			reflect.PointerTo(t).Implements(unmarshalerType) {
			if v, ok := t.FieldByName("Value"); ok && v.Type.Kind() == reflect.Pointer {
				info.ref = f.Index
			}
		}
		if m, ok := reflect.PointerTo(t).MethodByName("Map"); ok && m.Type.NumIn() == 1 && m.Type.NumOut() == 1 &&
			m.Type.Out(0).Kind() == reflect.Map && t.Name() == "Responses" {
			info.mapMethod = true
		}
	}
	v, _ := typeInfos.LoadOrStore(t, info)
	return v.(*typeInfo)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// holdsRefs: a value of type t may hold one of kin-openapi's types.
// Interfaces hold decoded JSON (extensions, examples), never those.
func holdsRefs(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsRefs(t.Elem())
	case reflect.Struct:
		return fromKin(t)
	}
	return false
}

// fromKin: t (or what it points to) is one of kin-openapi's types.
func fromKin(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "github.com/getkin/kin-openapi/")
}
