package console

import (
	"strings"
	"testing"
	"time"
)

// TestChartTimeAxis: a chart's time axis has a few ticks, the newest in
// UTC and the others how long before it, in the page's language; the
// chart's accessible name says the span and each line's figures.
func TestChartTimeAxis(t *testing.T) {
	// A server in another time zone draws the same axis.
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("UTC+8", 8*3600)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var at []time.Time
	var vals []float64
	for i := range 31 {
		at = append(at, start.Add(time.Duration(i)*time.Minute))
		vals = append(vals, float64(i%7))
	}
	en := string(timeSVG("en", "Requests", "", at, []chartLine{{Vals: vals}}))
	for _, want := range []string{">-30 min</text>", ">-15 min</text>", ">12:30 UTC</text>", `class="tick axis-label"`,
		`role="img"`, `aria-label="Requests from 12:00 UTC to 12:30 UTC: lowest 0, highest 6, latest 2"`, "<title>Requests from"} {
		if !strings.Contains(en, want) {
			t.Errorf("English chart lacks %q:\n%s", want, en)
		}
	}
	if n := strings.Count(en, "axis-label"); n != 5 {
		t.Errorf("%d ticks, want 5", n)
	}
	zh := string(timeSVG("zh-CN", "请求数", "ms", at, []chartLine{{Name: "p50", Vals: vals}, {Name: "p99", Vals: vals}}))
	for _, want := range []string{">-30 分钟</text>", ">12:30 UTC</text>", "请求数，12:00 UTC 至 12:30 UTC：p50: 最低 0 ms，最高 6 ms，最新 2 ms; p99:"} {
		if !strings.Contains(zh, want) {
			t.Errorf("Chinese chart lacks %q:\n%s", want, zh)
		}
	}
	// Longer spans read in hours and days; no points say so.
	week := []time.Time{start, start.Add(3 * 24 * time.Hour), start.Add(7 * 24 * time.Hour)}
	if s := string(timeSVG("en", "x", "", week, []chartLine{{Vals: []float64{1, 2, 3}}})); !strings.Contains(s, ">-7 d</text>") || !strings.Contains(s, ">-4 d</text>") || !strings.Contains(s, "03-08 12:00 UTC") {
		t.Errorf("a week's axis:\n%s", s)
	}
	if s := string(timeSVG("en", "x", "", []time.Time{start, start.Add(5 * time.Hour)}, []chartLine{{Vals: []float64{1, 2}}})); !strings.Contains(s, ">-5 h</text>") {
		t.Errorf("hours:\n%s", s)
	}
	if s := string(timeSVG("en", "Errors", "%", nil, nil)); !strings.Contains(s, `aria-label="Errors: no data yet"`) {
		t.Errorf("no data:\n%s", s)
	}
	// What the admin API gives cannot break out of the markup.
	if s := string(timeSVG("en", `<script>"x"`, `"`, at, []chartLine{{Name: "</svg>", Vals: vals}, {Vals: vals}})); strings.Contains(s, "<script>") || strings.Count(s, "</svg>") != 1 {
		t.Errorf("unescaped text:\n%s", s)
	}
}
