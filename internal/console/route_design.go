package console

import (
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// designMessages are the catalogue's keys of a route's design shown on
// its service's page: declared parameters and where the backend gets
// them. init merges them into messages.
var designMessages = webpage.Catalogue{
	"svc.parameters": {"en": "Parameters", "zh-CN": "参数"},
	"svc.required":   {"en": "required", "zh-CN": "必填"},
	"svc.constant":   {"en": "constant", "zh-CN": "常量"},
}

// designOverridden are the keys designMessages redefined (none, or a test
// fails).
var designOverridden []string

func init() { designOverridden = messages.Add(designMessages) }

// parameterText is one declared parameter as the routes table shows it:
// "uid (query, integer, required) → header X-User-Id".
func parameterText(p *page, pm spec.Parameter) string {
	var b strings.Builder
	b.WriteString(pm.Name + " (" + place(pm.In, "", pm.Pointer))
	if pm.Type != "" {
		b.WriteString(", " + pm.Type)
	}
	if pm.Required {
		b.WriteString(", " + p.T("svc.required"))
	}
	b.WriteString(")")
	if t := pm.Backend; t != nil {
		b.WriteString(" → " + place(t.In, t.Name, t.Pointer))
	}
	return b.String()
}

// constantText is a backend constant: "header X-Key = (constant)". The
// value is not shown: constants often carry a backend's key.
func constantText(p *page, c spec.ConstParameter) string {
	return place(c.In, c.Name, c.Pointer) + " = (" + p.T("svc.constant") + ")"
}

// place names where a parameter sits: "query uid", "body /user/id".
func place(in, name, pointer string) string {
	if in == "body" && pointer != "" {
		return "body " + pointer
	}
	if name == "" {
		return in
	}
	return in + " " + name
}
