package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// column is one column of a table: its header and the JSON member it
// shows (a dotted path reaches into objects).
type column struct{ header, member string }

// printList prints a list answer's items: a table by default.
func (a *app) printList(items []map[string]any, cols []column) error {
	switch a.output {
	case "json":
		return printJSON(a.out, items)
	case "yaml":
		return printYAML(a.out, items)
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(member(it, c.member))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// printObject prints one object: YAML by default.
func (a *app) printObject(v any) error {
	if a.output == "json" {
		return printJSON(a.out, v)
	}
	return printYAML(a.out, v)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("render YAML: %w", err)
	}
	_, err = w.Write(b)
	return err
}

func member(obj map[string]any, path string) any {
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// cell renders a value in one table cell.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.3g", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		if s, ok := placementCell(x); ok {
			return s
		}
		b, _ := json.Marshal(x)
		return string(b)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// placementCell shows where a service runs (a spec.Placement) as
// "group@version", with "+canary N%" while a canary runs there.
func placementCell(m map[string]any) (string, bool) {
	g, ok1 := m["group"].(string)
	v, ok2 := m["version"].(string)
	if !ok1 || !ok2 {
		return "", false
	}
	s := g + "@" + v
	if c, ok := m["canary"].(map[string]any); ok {
		s += "+canary" + cell(c["weight"]) + "%"
	}
	return s, true
}
