package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
)

// chart is one inline SVG line chart drawn by the server: no script, no
// third-party library, readable without JavaScript.
type chart struct {
	Title string
	SVG   template.HTML
}

func statsCharts(q *req, pts []svcstats.Point) []chart {
	at := make([]time.Time, len(pts))
	for i, p := range pts {
		at[i] = p.At
	}
	get := func(f func(svcstats.Point) float64) []float64 {
		out := make([]float64, len(pts))
		for i, p := range pts {
			out[i] = f(p)
		}
		return out
	}
	one := func(key, unit string, f func(svcstats.Point) float64) chart {
		return chart{q.t(key), timeSVG(q.lang, q.t(key), unit, at, []chartLine{{Vals: get(f)}})}
	}
	return []chart{
		one("stats.requests", "", func(p svcstats.Point) float64 { return float64(p.Requests) }),
		one("stats.error_rate", "%", func(p svcstats.Point) float64 { return p.ErrorRate * 100 }),
		one("stats.p50", "ms", func(p svcstats.Point) float64 { return p.P50Ms }),
		one("stats.p99", "ms", func(p svcstats.Point) float64 { return p.P99Ms }),
	}
}

// chartLine is one line of a chart; Name labels it in the legend when
// the chart has several.
type chartLine struct {
	Name string
	Vals []float64
}

// lineDash tells a chart's lines apart without colour: solid, dashed,
// dotted.
var lineDash = []string{"", "6 4", "2 3"}

// timeSVG draws lines of values left (oldest) to right, over a time axis
// labelled from at (the points' times, as many as the values; nil: no
// labels). The newest tick says its time in UTC and the others how long
// before it ("-5 min"), so the axis reads the same whatever the time
// zones of the server and the reader. The same figures are said in words
// (lowest, highest, latest of each line, and the span) as the chart's
// accessible name, for a screen reader and for anyone who cannot see the
// lines. Only numbers and escaped text enter the markup.
func timeSVG(lang, label, unit string, at []time.Time, lines []chartLine) template.HTML {
	const w, h, padX, padTop, padBottom = 600.0, 180.0, 24.0, 24.0, 28.0
	top := 0.0
	n := 0
	for _, l := range lines {
		n = max(n, len(l.Vals))
		for _, v := range l.Vals {
			top = max(top, v)
		}
	}
	if top == 0 {
		top = 1
	}
	x := func(i int) float64 {
		if n <= 1 {
			return padX
		}
		return padX + float64(i)*(w-2*padX)/float64(n-1)
	}
	alt := chartAlt(lang, label, unit, at, lines)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" preserveAspectRatio="none"><title>%s</title>`,
		w, h, template.HTMLEscapeString(alt), template.HTMLEscapeString(alt))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="axis"/>`, padX, h-padBottom, w-padX, h-padBottom)
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="tick">%s %s</text>`, padX,
		template.HTMLEscapeString(trimFloat(top)), template.HTMLEscapeString(unit))
	if len(at) == n && n > 0 {
		ticks := min(n, 5)
		for k := range ticks {
			i := 0
			if ticks > 1 {
				i = k * (n - 1) / (ticks - 1)
			}
			anchor := "middle"
			switch {
			case k == 0 && ticks > 1:
				anchor = "start"
			case k == ticks-1:
				anchor = "end"
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="axis"/>`, x(i), h-padBottom, x(i), h-padBottom+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="tick axis-label" text-anchor="%s">%s</text>`, x(i), h-8, anchor,
				template.HTMLEscapeString(tickText(lang, at[i], at[n-1], at[0])))
		}
	}
	for li, l := range lines {
		var pts strings.Builder
		for i, v := range l.Vals {
			y := h - padBottom - v/top*(h-padTop-padBottom)
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y)
		}
		dash := ""
		if d := lineDash[li%len(lineDash)]; d != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, d)
		}
		fmt.Fprintf(&b, `<polyline points="%s" class="line"%s/>`, strings.TrimSpace(pts.String()), dash)
		if len(lines) > 1 && l.Name != "" {
			lx := w - padX - float64(len(lines)-li)*70
			fmt.Fprintf(&b, `<line x1="%.0f" y1="10" x2="%.0f" y2="10" class="line"%s/><text x="%.0f" y="14" class="tick">%s</text>`,
				lx, lx+18, dash, lx+22, template.HTMLEscapeString(l.Name))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}

// utcClock is a point's time in UTC: the clock within a day's span, the
// date too beyond it.
func utcClock(t, newest, oldest time.Time) string {
	layout := "15:04 UTC"
	if newest.Sub(oldest) > 24*time.Hour {
		layout = "01-02 15:04 UTC"
	}
	return t.UTC().Format(layout)
}

// tickText labels a tick: the newest point in UTC, any other by how long
// before it, rounded to what the span reads in (seconds under two minutes,
// minutes under two hours, hours under two days, days beyond).
func tickText(lang string, t, newest, oldest time.Time) string {
	d := newest.Sub(t)
	if d <= 0 {
		return utcClock(t, newest, oldest)
	}
	unit, n := "span.s", d.Round(time.Second)/time.Second
	switch {
	case d >= 48*time.Hour:
		unit, n = "chart.span_d", d.Round(time.Hour)/(24*time.Hour)
	case d >= 2*time.Hour:
		unit, n = "span.h", d.Round(time.Minute)/time.Hour
	case d >= 2*time.Minute:
		unit, n = "span.min", d.Round(time.Second)/time.Minute
	}
	return "-" + fmt.Sprintf(messages.Text(lang, unit), n)
}

// chartAlt says a chart in words: what it shows, over which span (UTC),
// and each line's lowest, highest and latest value.
func chartAlt(lang, label, unit string, at []time.Time, lines []chartLine) string {
	var parts []string
	for _, l := range lines {
		if len(l.Vals) == 0 {
			continue
		}
		lo, hi := l.Vals[0], l.Vals[0]
		for _, v := range l.Vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		num := func(v float64) string { return strings.TrimSpace(trimFloat(v) + " " + unit) }
		one := fmt.Sprintf(messages.Text(lang, "chart.series"), num(lo), num(hi), num(l.Vals[len(l.Vals)-1]))
		if l.Name != "" {
			one = l.Name + ": " + one
		}
		parts = append(parts, one)
	}
	if len(parts) == 0 {
		return label + ": " + messages.Text(lang, "chart.no_data")
	}
	if len(at) == 0 {
		return label + ": " + strings.Join(parts, "; ")
	}
	oldest, newest := at[0], at[len(at)-1]
	return fmt.Sprintf(messages.Text(lang, "chart.alt"), label, utcClock(oldest, newest, oldest), utcClock(newest, newest, oldest), strings.Join(parts, "; "))
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
