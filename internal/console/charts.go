package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
)

// chart is one inline SVG line chart drawn by the server: no script, no
// third-party library, readable without JavaScript.
type chart struct {
	Title string
	SVG   template.HTML
}

func statsCharts(q *req, pts []svcstats.Point) []chart {
	get := func(f func(svcstats.Point) float64) []float64 {
		out := make([]float64, len(pts))
		for i, p := range pts {
			out[i] = f(p)
		}
		return out
	}
	return []chart{
		{q.t("stats.requests"), lineSVG(q.t("stats.requests"), "", get(func(p svcstats.Point) float64 { return float64(p.Requests) }))},
		{q.t("stats.error_rate"), lineSVG(q.t("stats.error_rate"), "%", get(func(p svcstats.Point) float64 { return p.ErrorRate * 100 }))},
		{q.t("stats.p50"), lineSVG(q.t("stats.p50"), "ms", get(func(p svcstats.Point) float64 { return p.P50Ms }))},
		{q.t("stats.p99"), lineSVG(q.t("stats.p99"), "ms", get(func(p svcstats.Point) float64 { return p.P99Ms }))},
	}
}

// lineSVG draws values left (oldest) to right. Only numbers and the
// escaped label enter the markup.
func lineSVG(label, unit string, vals []float64) template.HTML {
	const w, h, pad = 600.0, 160.0, 24.0
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	if top == 0 {
		top = 1
	}
	var pts strings.Builder
	for i, v := range vals {
		x := pad
		if len(vals) > 1 {
			x = pad + float64(i)*(w-2*pad)/float64(len(vals)-1)
		}
		y := h - pad - v/top*(h-2*pad)
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, y)
	}
	svg := fmt.Sprintf(`<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" preserveAspectRatio="none">`+
		`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="axis"/>`+
		`<text x="%.0f" y="14" class="tick">%s %s</text>`+
		`<polyline points="%s" class="line"/></svg>`,
		w, h, template.HTMLEscapeString(label), pad, h-pad, w-pad, h-pad, pad,
		template.HTMLEscapeString(trimFloat(top)), template.HTMLEscapeString(unit), strings.TrimSpace(pts.String()))
	return template.HTML(svg) // built from numbers and escaped text only
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// op is one operation of a description file, for the readable view.
type op struct {
	Method, Path, ID, Summary, Description string
	Params                                 []param
	Responses                              []string
}

type param struct{ Name, In, Type, Description string }

type docInfo struct{ Title, Version, Description string }

// readableOps reads the operations of an OpenAPI 3 document for the
// description-file view. A document it cannot read gives no operations; the
// raw text beside it still shows everything.
func readableOps(raw []byte) ([]op, docInfo) {
	var doc struct {
		Info struct {
			Title       string `json:"title"`
			Version     string `json:"version"`
			Description string `json:"description"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil, docInfo{}
	}
	info := docInfo{doc.Info.Title, doc.Info.Version, doc.Info.Description}
	var ops []op
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue
			}
			var o struct {
				OperationID string `json:"operationId"`
				Summary     string `json:"summary"`
				Description string `json:"description"`
				Parameters  []struct {
					Name        string `json:"name"`
					In          string `json:"in"`
					Description string `json:"description"`
					Schema      struct {
						Type any `json:"type"`
					} `json:"schema"`
				} `json:"parameters"`
				Responses map[string]struct {
					Description string `json:"description"`
				} `json:"responses"`
			}
			if json.Unmarshal(rawOp, &o) != nil {
				continue
			}
			one := op{Method: strings.ToUpper(method), Path: path, ID: o.OperationID, Summary: o.Summary, Description: o.Description}
			for _, p := range o.Parameters {
				one.Params = append(one.Params, param{p.Name, p.In, fmt.Sprint(orEmpty(p.Schema.Type)), p.Description})
			}
			for code, r := range o.Responses {
				one.Responses = append(one.Responses, code+" "+r.Description)
			}
			sort.Strings(one.Responses)
			ops = append(ops, one)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops, info
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}
