package manifest

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/big"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"github.com/portico-gw/portico/internal/spec"
)

// The field-level diff of a service's configurations (two versions, a
// version and the template, what a gateway group runs and what it would
// run after a sync). It compares the JSON the admin API shows, guided by
// one description of a service's shape: which members are bookkeeping
// (ids, timestamps, lifecycle state) and left out, and how the elements
// of a list are matched — routes by name, nodes by host:port — so that a
// route moved in the list or a node added in front is one change, not a
// shift of every index. Everything else is compared as JSON: objects
// member by member (plugin configurations, an imported OpenAPI part),
// other lists as whole values.

// shape is what is compared of one JSON value.
type shape struct {
	ignore   []string          // members that are bookkeeping, never compared
	defaults map[string]any    // members whose value here means what their absence means
	members  map[string]*shape // the shapes of members that have one
	key      *listKey          // for a list: how elements are matched (nil: the list is one value)
	elem     *shape            // for a keyed list: the shape of its elements
}

// listKey matches the elements of a list; name is how a path writes it
// (routes[name=list]).
type listKey struct {
	name string
	of   func(map[string]any) (string, bool)
}

var (
	byName = &listKey{name: "name", of: func(m map[string]any) (string, bool) {
		s, ok := m["name"].(string)
		return s, ok && s != ""
	}}
	byHostPort = &listKey{name: "host:port", of: func(m map[string]any) (string, bool) {
		host, ok := m["host"].(string)
		port, okp := m["port"].(json.Number)
		if !ok || !okp {
			return "", false
		}
		return net.JoinHostPort(host, port.String()), true
	}}

	timestamps = []string{"created_at", "updated_at"}

	upstreamShape = &shape{
		ignore:  append([]string{"id", "project_id"}, timestamps...),
		members: map[string]*shape{"nodes": {key: byHostPort}},
	}
	routeShape = &shape{
		ignore: append([]string{"id", "service_id"}, timestamps...),
		// A route without online is online; the console always sends it.
		defaults: map[string]any{"online": true},
		// result_columns are read from the data source when a sql route
		// is saved, not written by anyone.
		members: map[string]*shape{"backend": {ignore: []string{"result_columns"}}},
	}
	// serviceShape is a service as spec.Service marshals it, or as
	// Deployed builds it (with version).
	serviceShape = &shape{
		// folder_path is the folder's path when read; running and
		// allowed_actions are filled when the admin API answers.
		ignore: append([]string{"id", "project_id", "state", "allowed_actions", "running", "folder_id", "folder_path", "created_by"}, timestamps...),
		members: map[string]*shape{
			"routes":        {key: byName, elem: routeShape},
			"stream_routes": {key: byName, elem: &shape{}},
			"upstream":      upstreamShape,
		},
	}
)

// Deployed is what a gateway group runs of a service, as DiffService
// compares it: the version's template, its version string, and the
// upstream the group runs it with in place of the template's own.
func Deployed(v *spec.Version, up spec.Upstream) map[string]any {
	m, _ := decodeJSON(v.Service).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	delete(m, "upstream_id")
	m["upstream"] = decodeJSON(up)
	m["version"] = v.Version
	return m
}

// DiffService lists what differs from one configuration of a service to
// another: each a spec.Service (or pointer to one) or what Deployed
// builds; nil is a service that is not there (every member added or
// removed). The list is empty, never nil, when nothing differs. Changes
// come in member order, removed and changed list elements in the order of
// from, then added ones in the order of to.
func DiffService(from, to any) []spec.FieldChange {
	out := []spec.FieldChange{}
	// A service that is not there is an empty object: its members are
	// each added (or removed), not one change of the whole.
	object := func(v any) map[string]any {
		m, _ := decodeJSON(v).(map[string]any)
		return m
	}
	diffObject(&out, "", object(from), object(to), serviceShape)
	return out
}

// decodeJSON is v as generic JSON, numbers exact (json.Number); nil for
// nil or a nil pointer.
func decodeJSON(v any) any {
	if v == nil {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if d.Decode(&out) != nil {
		return nil
	}
	return out
}

func diffValue(out *[]spec.FieldChange, path string, a, b any, sh *shape) {
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		*out = append(*out, spec.FieldChange{Path: path, Op: spec.ChangeAdded, To: clean(b, sh)})
		return
	case b == nil:
		*out = append(*out, spec.FieldChange{Path: path, Op: spec.ChangeRemoved, From: clean(a, sh)})
		return
	}
	ma, aObj := a.(map[string]any)
	mb, bObj := b.(map[string]any)
	if aObj && bObj {
		diffObject(out, path, ma, mb, sh)
		return
	}
	la, aList := a.([]any)
	lb, bList := b.([]any)
	if aList && bList && sh != nil && sh.key != nil && diffList(out, path, la, lb, sh) {
		return
	}
	if !equalJSON(a, b) {
		*out = append(*out, spec.FieldChange{Path: path, Op: spec.ChangeChanged, From: clean(a, sh), To: clean(b, sh)})
	}
}

func diffObject(out *[]spec.FieldChange, path string, a, b map[string]any, sh *shape) {
	a, b = compared(a, sh), compared(b, sh)
	union := maps.Clone(a)
	maps.Copy(union, b)
	keys := slices.Sorted(maps.Keys(union))
	for _, k := range keys {
		diffValue(out, member(path, k), a[k], b[k], sh.member(k))
	}
}

// diffList matches the elements of two lists by sh.key; false when an
// element has no key or two share one (the lists are then compared whole).
func diffList(out *[]spec.FieldChange, path string, a, b []any, sh *shape) bool {
	ka, okA := keyed(a, sh.key)
	kb, okB := keyed(b, sh.key)
	if !okA || !okB {
		return false
	}
	at := func(k string) string { return path + "[" + sh.key.name + "=" + k + "]" }
	byKey := map[string]any{}
	for i, k := range kb {
		byKey[k] = b[i]
	}
	inA := map[string]bool{}
	for i, k := range ka {
		inA[k] = true
		diffValue(out, at(k), a[i], byKey[k], sh.elem)
	}
	for i, k := range kb {
		if !inA[k] {
			diffValue(out, at(k), nil, b[i], sh.elem)
		}
	}
	return true
}

// keyed is the key of each element, or false when one has none or two
// share one.
func keyed(list []any, key *listKey) ([]string, bool) {
	keys := make([]string, len(list))
	seen := map[string]bool{}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		k, ok := key.of(m)
		if !ok || seen[k] {
			return nil, false
		}
		seen[k], keys[i] = true, k
	}
	return keys, true
}

func (sh *shape) member(k string) *shape {
	if sh == nil {
		return nil
	}
	return sh.members[k]
}

// compared is m without what sh leaves out: bookkeeping members, nulls
// and members at their default.
func compared(m map[string]any, sh *shape) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		if sh != nil {
			if slices.Contains(sh.ignore, k) {
				continue
			}
			if d, ok := sh.defaults[k]; ok && equalJSON(v, d) {
				continue
			}
		}
		out[k] = v
	}
	return out
}

// clean is v as a change shows it: without the members sh leaves out, at
// any depth its shape describes.
func clean(v any, sh *shape) any {
	if sh == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		m := compared(x, sh)
		for k, e := range m {
			m[k] = clean(e, sh.members[k])
		}
		return m
	case []any:
		if sh.elem == nil {
			return x
		}
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = clean(e, sh.elem)
		}
		return l
	}
	return v
}

// plainMember is a member name a path writes after a dot.
var plainMember = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// member is the path of member k of the value at path: .k, or ["k"] for
// a name a dot would make ambiguous (a label "team.io/owner").
func member(path, k string) string {
	if plainMember.MatchString(k) {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	q, _ := json.Marshal(k)
	return path + "[" + string(q) + "]"
}

// equalJSON compares generic JSON values by meaning: numbers by value
// (1 and 1.0 are one number), objects whatever their member order.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			if f, isFloat := b.(float64); isFloat {
				y, ok = json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
			}
		}
		return ok && numbersEqual(x, y)
	case float64:
		return equalJSON(json.Number(strconv.FormatFloat(x, 'g', -1, 64)), b)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// numbersEqual compares integers exactly and other numbers as float64
// (never as big.Rat: an exponent of a billion would take its time).
func numbersEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, okA := new(big.Int).SetString(string(a), 10)
	y, okB := new(big.Int).SetString(string(b), 10)
	if okA && okB {
		return x.Cmp(y) == 0
	}
	f, errA := strconv.ParseFloat(string(a), 64)
	g, errB := strconv.ParseFloat(string(b), 64)
	return errA == nil && errB == nil && f == g
}
