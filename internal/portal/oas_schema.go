package portal

import (
	"encoding/json"
	"fmt"
	"strings"
)

// schemaNode is one line of a schema tree: a property (Name), the items
// of an array ("[]"), the alternatives of a oneOf/anyOf (Variant), or the
// root (no name).
type schemaNode struct {
	Name        string
	Type        string // "string (date-time)", "array<Pet>", "integer | null"
	Ref         string // the component a $ref named
	Required    bool
	ReadOnly    bool
	WriteOnly   bool
	Deprecated  bool
	Description string
	Enum        string
	Default     string
	Example     string
	Constraints string // "min 1 · max 10 · pattern ^a"
	// Note says why the tree stops here: "cycle" (the schema contains
	// itself), "depth", "limit" (the document's node budget), "external"
	// (a reference outside the document).
	Note string
	// Variant is "oneOf" or "anyOf" on a node whose children are
	// alternatives.
	Variant  string
	Children []*schemaNode
}

// spend takes one node from the operation's and the document's budget.
func (r *renderer) spend() bool {
	if r.nodes <= 0 || r.op <= 0 {
		r.capped = true
		return false
	}
	r.nodes--
	r.op--
	return true
}

// spent reports whether the budget is gone, marking n as cut short: a
// node stops adding children rather than adding one "limit" leaf each.
func (r *renderer) spent(n *schemaNode) bool {
	if r.nodes > 0 && r.op > 0 {
		return false
	}
	n.Note, r.capped = "limit", true
	return true
}

// schema renders v as the node called name. stack holds the references
// being expanded above this node: meeting one again is a cycle, shown as
// a leaf naming the component instead of expanding without end.
func (r *renderer) schema(v any, name string, required bool, depth int, stack map[string]bool) *schemaNode {
	n := &schemaNode{Name: name, Required: required}
	if !r.spend() {
		n.Note = "limit"
		return n
	}
	m, _ := v.(map[string]any)
	if m == nil {
		if v == false {
			n.Type = "never"
		} else {
			n.Type = "any"
		}
		return n
	}
	// Description and the like may sit beside a $ref (OpenAPI 3.1).
	outer := m
	var pushed []string
	defer func() {
		for _, ref := range pushed {
			delete(stack, ref)
		}
	}()
	for hops := 0; ; hops++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		if n.Ref == "" {
			n.Ref = refName(ref)
		}
		if stack[ref] {
			n.Type, n.Note = refName(ref), "cycle"
			return n
		}
		next, _ := r.pointer(ref).(map[string]any)
		if next == nil || hops >= maxRefHops {
			n.Type, n.Note = refName(ref), "external"
			return n
		}
		stack[ref] = true
		pushed = append(pushed, ref)
		m = next
	}
	r.describe(n, m)
	if n.Ref != "" {
		if d := text(outer["description"], maxText); d != "" {
			n.Description = d
		}
	}
	if depth >= maxDepth {
		if hasChildren(m) {
			n.Note = "depth"
			r.capped = true
		}
		return n
	}
	r.expand(n, m, depth, stack)
	return n
}

// describe fills what a schema says of itself (no children).
func (r *renderer) describe(n *schemaNode, m map[string]any) {
	n.Type = typeOf(m)
	n.Description = text(m["description"], maxText)
	if n.Description == "" {
		n.Description = text(m["title"], maxShort)
	}
	n.ReadOnly, n.WriteOnly, n.Deprecated = m["readOnly"] == true, m["writeOnly"] == true, m["deprecated"] == true
	if e, ok := m["enum"].([]any); ok {
		n.Enum = enumText(e)
	}
	if d, ok := m["default"]; ok {
		n.Default = short(d)
	}
	if ex, ok := m["example"]; ok {
		n.Example = short(ex)
	} else if exs, ok := m["examples"].([]any); ok && len(exs) > 0 {
		n.Example = short(exs[0])
	}
	var cs []string
	for _, c := range []struct{ key, label string }{
		{"minimum", "min"}, {"exclusiveMinimum", "> "}, {"maximum", "max"}, {"exclusiveMaximum", "< "},
		{"minLength", "min length"}, {"maxLength", "max length"}, {"minItems", "min items"}, {"maxItems", "max items"},
		{"multipleOf", "multiple of"}, {"pattern", "pattern"},
	} {
		switch x := m[c.key].(type) {
		case float64:
			cs = append(cs, strings.TrimSpace(c.label+" "+short(x)))
		case string:
			cs = append(cs, c.label+" "+text(x, 100))
		}
	}
	if m["uniqueItems"] == true {
		cs = append(cs, "unique items")
	}
	n.Constraints = strings.Join(cs, " · ")
}

func hasChildren(m map[string]any) bool {
	for _, k := range []string{"properties", "items", "allOf", "oneOf", "anyOf", "additionalProperties"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// expand adds n's children: properties, array items, additional
// properties, allOf parts merged in, oneOf/anyOf alternatives.
func (r *renderer) expand(n *schemaNode, m map[string]any, depth int, stack map[string]bool) {
	req := map[string]bool{}
	if rs, ok := m["required"].([]any); ok {
		for _, x := range rs {
			if s, ok := x.(string); ok {
				req[s] = true
			}
		}
	}
	props, _ := m["properties"].(map[string]any)
	keys := sortedKeys(props)
	if len(keys) > maxChildren {
		keys, r.capped = keys[:maxChildren], true
	}
	for _, k := range keys {
		if r.spent(n) {
			return
		}
		n.Children = append(n.Children, r.schema(props[k], text(k, maxShort), req[k], depth+1, stack))
	}
	if it, ok := m["items"]; ok {
		c := r.schema(it, "[]", false, depth+1, stack)
		item := c.Type
		if c.Ref != "" && c.Note != "cycle" && (c.Type == "object" || c.Type == "") {
			item = c.Ref
		}
		if n.Type == "array" || n.Type == "" {
			n.Type = "array<" + item + ">"
		}
		// A plain item (array<string>) says all in the type; a structured
		// one shows as a child.
		if len(c.Children) > 0 || c.Note != "" || c.Enum != "" || c.Description != "" || c.Constraints != "" {
			n.Children = append(n.Children, c)
		}
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		n.Children = append(n.Children, r.schema(ap, "*", false, depth+1, stack))
	}
	if parts, ok := m["allOf"].([]any); ok {
		for _, part := range parts[:min(len(parts), 20)] {
			if r.spent(n) {
				return
			}
			c := r.schema(part, "", false, depth+1, stack)
			if n.Type == "" || n.Type == "any" {
				n.Type = c.Type
			}
			if n.Description == "" {
				n.Description = c.Description
			}
			if c.Note != "" && len(c.Children) == 0 {
				// A part that could not be expanded (a cycle) stays visible.
				c.Name = "…"
				n.Children = append(n.Children, c)
				continue
			}
			for _, cc := range c.Children {
				if req[cc.Name] {
					cc.Required = true
				}
				n.Children = append(n.Children, cc)
			}
		}
		if len(n.Children) > 0 && (n.Type == "" || n.Type == "any") {
			n.Type = "object"
		}
	}
	for _, kind := range []string{"oneOf", "anyOf"} {
		alts, ok := m[kind].([]any)
		if !ok {
			continue
		}
		v := &schemaNode{Variant: kind}
		for i, alt := range alts[:min(len(alts), 20)] {
			if r.spent(v) {
				break
			}
			c := r.schema(alt, "", false, depth+1, stack)
			c.Name = fmt.Sprintf("%d", i+1)
			if c.Ref != "" {
				c.Name = c.Ref
			}
			v.Children = append(v.Children, c)
		}
		n.Children = append(n.Children, v)
		if n.Type == "any" {
			n.Type = ""
		}
	}
}

// typeOf is a schema's type as shown: "string (email)", "integer | null",
// inferred from properties or items when "type" is left out.
func typeOf(m map[string]any) string {
	var ts []string
	switch t := m["type"].(type) {
	case string:
		ts = []string{text(t, 32)}
	case []any:
		for _, x := range t[:min(len(t), 8)] {
			if s, ok := x.(string); ok {
				ts = append(ts, text(s, 32))
			}
		}
	}
	if len(ts) == 0 {
		switch {
		case m["properties"] != nil:
			ts = []string{"object"}
		case m["items"] != nil:
			ts = []string{"array"}
		case m["allOf"] != nil, m["oneOf"] != nil, m["anyOf"] != nil:
			return ""
		default:
			ts = []string{"any"}
		}
	}
	s := strings.Join(ts, " | ")
	if f := text(m["format"], 32); f != "" {
		s += " (" + f + ")"
	}
	if m["nullable"] == true {
		s += " | null"
	}
	return s
}

// enumText lists enum values, at most maxEnum, as JSON.
func enumText(e []any) string {
	var vals []string
	for _, v := range e[:min(len(e), maxEnum)] {
		b, err := json.Marshal(v)
		if err == nil {
			vals = append(vals, string(b))
		}
	}
	s := strings.Join(vals, ", ")
	if len(e) > maxEnum {
		s += ", …"
	}
	return text(s, maxShort*2)
}

// sampleBody is a request body to start Try it with: the media type's
// example when it has one, else a value made from the schema (an
// example, a default or the first enum value of each field, else a
// placeholder of its type).
func (r *renderer) sampleBody(content any, mediaType string) string {
	c, _ := content.(map[string]any)
	mm, _ := c[mediaType].(map[string]any)
	if mm == nil {
		return ""
	}
	var v any
	if ex, ok := mm["example"]; ok {
		v = ex
	} else {
		budget := maxSampleOps
		v = r.sample(mm["schema"], 0, map[string]bool{}, &budget)
	}
	if v == nil {
		return ""
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil || len(b) > maxExample {
		return ""
	}
	return string(b)
}

func (r *renderer) sample(v any, depth int, stack map[string]bool, budget *int) any {
	*budget--
	if *budget < 0 || depth > 6 {
		return nil
	}
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		if stack[ref] {
			return nil
		}
		stack[ref] = true
		defer delete(stack, ref)
		return r.sample(r.pointer(ref), depth, stack, budget)
	}
	if m == nil {
		return nil
	}
	for _, k := range []string{"example", "default"} {
		if x, ok := m[k]; ok {
			return x
		}
	}
	if e, ok := m["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if parts, ok := m["allOf"].([]any); ok {
		out := map[string]any{}
		for _, p := range parts[:min(len(parts), 20)] {
			if pm, ok := r.sample(p, depth+1, stack, budget).(map[string]any); ok {
				for k, x := range pm {
					out[k] = x
				}
			}
		}
		return out
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := m[k].([]any); ok && len(alts) > 0 {
			return r.sample(alts[0], depth+1, stack, budget)
		}
	}
	t := typeOf(m)
	switch {
	case strings.HasPrefix(t, "object"):
		out := map[string]any{}
		props, _ := m["properties"].(map[string]any)
		for _, k := range sortedKeys(props)[:min(len(props), 40)] {
			if pm, ok := props[k].(map[string]any); ok && pm["readOnly"] == true {
				continue
			}
			if x := r.sample(props[k], depth+1, stack, budget); x != nil {
				out[k] = x
			}
		}
		return out
	case strings.HasPrefix(t, "array"):
		if x := r.sample(m["items"], depth+1, stack, budget); x != nil {
			return []any{x}
		}
		return []any{}
	case strings.HasPrefix(t, "integer"), strings.HasPrefix(t, "number"):
		return 0
	case strings.HasPrefix(t, "boolean"):
		return false
	case strings.HasPrefix(t, "string"):
		switch text(m["format"], 32) {
		case "date-time":
			return "2026-01-01T00:00:00Z"
		case "date":
			return "2026-01-01"
		case "email":
			return "user@example.com"
		case "uuid":
			return "00000000-0000-0000-0000-000000000000"
		}
		return "string"
	}
	return nil
}
