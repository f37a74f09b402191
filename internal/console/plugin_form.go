package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// catalogueEntry is one plugin of the admin API's GET /plugins.
type catalogueEntry struct {
	Name     string         `json:"name"`
	Phase    string         `json:"phase"`
	Order    int            `json:"order"`
	Services bool           `json:"services"`
	Routes   bool           `json:"routes"`
	Stream   bool           `json:"stream"`
	Schema   map[string]any `json:"schema"`
}

// The inputs a schema's property becomes.
const (
	inText   = "text"
	inNumber = "number"
	inBool   = "bool"
	inSelect = "select"
	inLines  = "lines"   // an array of strings: one per line
	inJSON   = "json"    // any other shape: the value as JSON
	cfgField = "cfg."    // form name prefix of a configuration member
	rawField = "cfg_raw" // the whole configuration as JSON (a plugin without schema)
)

// configField is one member of a plugin's configuration as its form shows
// it.
type configField struct {
	Name     string // the member's JSON name
	Input    string
	Value    string
	Checked  bool
	Options  []string
	Required bool
	Desc     string
	Err      string // the admin API's message for this member
	ErrKey   string // the field it names, which the template asks page.E for (so the banner does not list it again)
}

// schemaType is the JSON type a schema names, the first that is not
// "null" when it names several (["object", "null"]).
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, e := range t {
			if n, ok := e.(string); ok && n != "null" {
				return n
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		if inner, ok := all[0].(map[string]any); ok {
			return schemaType(inner)
		}
	}
	return ""
}

// inputOf picks the input of a property's schema.
func inputOf(s map[string]any) (input string, options []string) {
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		for _, e := range enum {
			str, ok := e.(string)
			if !ok { // an enum of numbers or mixed values: typed as JSON
				return inJSON, nil
			}
			options = append(options, str)
		}
		return inSelect, options
	}
	switch schemaType(s) {
	case "string":
		return inText, nil
	case "integer", "number":
		return inNumber, nil
	case "boolean":
		return inBool, nil
	case "array":
		if items, ok := s["items"].(map[string]any); ok && schemaType(items) == "string" {
			if _, enum := items["enum"]; !enum {
				return inLines, nil
			}
		}
	}
	return inJSON, nil
}

// properties lists a schema's members: required ones first, then by name.
func properties(schema map[string]any) (names []string, props map[string]map[string]any, required map[string]bool) {
	props = map[string]map[string]any{}
	raw, _ := schema["properties"].(map[string]any)
	for name, v := range raw {
		if s, ok := v.(map[string]any); ok {
			props[name] = s
		} else {
			props[name] = map[string]any{}
		}
	}
	required = map[string]bool{}
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	names = slices.Sorted(maps.Keys(props))
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case required[a] == required[b]:
			return 0
		case required[a]:
			return -1
		}
		return 1
	})
	return names, props, required
}

// decodeConfig reads a stored configuration as JSON values (numbers kept
// as written); anything but an object is treated as empty.
func decodeConfig(raw json.RawMessage) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// formFields builds the form of a plugin's schema: each member filled with
// what the user sent when the form comes back refused (posted non-nil),
// else the stored value, else the schema's default. errs are the admin
// API's messages by field; prefix is where this configuration sits in the
// resource ("plugins.key-auth").
func formFields(schema map[string]any, current map[string]any, posted url.Values, errs map[string]string, prefix string) []configField {
	names, props, required := properties(schema)
	var out []configField
	for _, name := range names {
		s := props[name]
		in, options := inputOf(s)
		f := configField{Name: name, Input: in, Options: options, Required: required[name]}
		f.Desc, _ = s["description"].(string)
		f.ErrKey, f.Err = fieldError(errs, prefix+"."+name)
		v, set := current[name]
		if !set {
			v, set = s["default"]
		}
		switch {
		case posted != nil && in == inBool:
			f.Checked = posted.Get(cfgField+name) == "on"
		case posted != nil:
			f.Value = posted.Get(cfgField + name)
		case set:
			f.Value, f.Checked = shown(v, in)
		}
		out = append(out, f)
	}
	return out
}

// fieldError is the message for field or for anything under it
// (plugins.cors.allow_origins[2]), with the field it names; "" when none.
func fieldError(errs map[string]string, field string) (key, message string) {
	if m, ok := errs[field]; ok {
		return field, m
	}
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		if strings.HasPrefix(k, field+".") || strings.HasPrefix(k, field+"[") {
			return k, errs[k]
		}
	}
	return "", ""
}

// shown is a stored value as its input shows it.
func shown(v any, in string) (string, bool) {
	switch in {
	case inBool:
		b, _ := v.(bool)
		return "", b
	case inText, inSelect:
		if s, ok := v.(string); ok {
			return s, false
		}
	case inNumber:
		if n, ok := v.(json.Number); ok {
			return n.String(), false
		}
		if n, ok := v.(float64); ok {
			return strconv.FormatFloat(n, 'f', -1, 64), false
		}
	case inLines:
		if list, ok := v.([]any); ok {
			var lines []string
			for _, e := range list {
				lines = append(lines, fmt.Sprint(e))
			}
			return strings.Join(lines, "\n"), false
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", false
	}
	return string(b), false
}

// configFromForm reads a plugin's configuration back from its form. A
// value that is not what the member takes (letters in a number, broken
// JSON) is sent as the string typed, so the admin API refuses it naming
// the member and the form shows its message beside it. old is the stored
// configuration: a checkbox cleared there is sent as false, one never set
// is left out unless the plugin's default is true (a box left clear must
// then say false).
func configFromForm(schema map[string]any, f url.Values, old map[string]any) map[string]any {
	names, props, _ := properties(schema)
	out := map[string]any{}
	for _, name := range names {
		in, _ := inputOf(props[name])
		v := f.Get(cfgField + name)
		switch in {
		case inBool:
			if v == "on" {
				out[name] = true
			} else if _, had := old[name]; had || props[name]["default"] == true {
				out[name] = false
			}
		case inText, inSelect:
			if v != "" {
				out[name] = v
			}
		case inNumber:
			if v = strings.TrimSpace(v); v != "" {
				out[name] = numberOrText(v)
			}
		case inLines:
			var list []string
			for line := range strings.SplitSeq(v, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					list = append(list, line)
				}
			}
			if len(list) > 0 {
				out[name] = list
			}
		default:
			if v = strings.TrimSpace(v); v != "" {
				out[name] = jsonOrText(v)
			}
		}
	}
	return out
}

// numberOrText is v as a JSON number when it is one, else the text.
func numberOrText(v string) any {
	if json.Valid([]byte(v)) {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v)
		}
	}
	return v
}

// jsonOrText is v as JSON when it parses as one value, else the text.
func jsonOrText(v string) any {
	if json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	return v
}

// replacement is the merge patch (RFC 7396) that makes old exactly new:
// new's members, and null for each member of old that new lacks, at every
// depth, since the admin API merges a patch into what is stored rather
// than replacing a plugin's configuration.
func replacement(old, new map[string]any) map[string]any {
	out := make(map[string]any, len(new))
	for k, v := range new {
		o, oldObj := old[k].(map[string]any)
		n, newObj := asObject(v)
		if oldObj && newObj {
			out[k] = replacement(o, n)
			continue
		}
		out[k] = v
	}
	for k := range old {
		if _, kept := new[k]; !kept {
			out[k] = nil
		}
	}
	return out
}

// asObject reads v as a JSON object when it is one (a decoded map, or
// raw JSON text of an object).
func asObject(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case json.RawMessage:
		if t := bytes.TrimSpace(x); len(t) > 0 && t[0] == '{' {
			return decodeConfig(x), true
		}
	}
	return nil, false
}
