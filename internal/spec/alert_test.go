package spec

import (
	"strings"
	"testing"
)

func TestAlertRuleValidate(t *testing.T) {
	ok := func(edit func(r *AlertRule)) *AlertRule {
		r := &AlertRule{Name: "errors", Group: "prod", Metric: AlertErrorRate, Threshold: 0.05}
		if edit != nil {
			edit(r)
		}
		r.Defaults()
		return r
	}
	for _, c := range []struct {
		name  string
		r     *AlertRule
		field string // "" valid
	}{
		{"defaults", ok(nil), ""},
		{"error rate of 1", ok(func(r *AlertRule) { r.Threshold = 1 }), ""},
		{"error rate above 1", ok(func(r *AlertRule) { r.Threshold = 1.01 }), "threshold"},
		{"error rate of 0", ok(func(r *AlertRule) { r.Threshold = 0 }), "threshold"},
		{"latency", ok(func(r *AlertRule) { r.Metric, r.Threshold = AlertP99, 1500 }), ""},
		{"latency of 0", ok(func(r *AlertRule) { r.Metric, r.Threshold = AlertP99, 0 }), "threshold"},
		{"latency beyond an hour", ok(func(r *AlertRule) { r.Metric, r.Threshold = AlertP99, 3_600_001 }), "threshold"},
		{"unknown metric", ok(func(r *AlertRule) { r.Metric = "p50_ms" }), "metric"},
		{"window of 1m", ok(func(r *AlertRule) { r.Window = "1m" }), ""},
		{"window of 15m", ok(func(r *AlertRule) { r.Window = "15m" }), ""},
		{"window of 50s", ok(func(r *AlertRule) { r.Window = "50s" }), "window"},
		{"window of 15m10s", ok(func(r *AlertRule) { r.Window = "15m10s" }), "window"},
		{"window off the steps", ok(func(r *AlertRule) { r.Window = "61s" }), "window"},
		{"no name", ok(func(r *AlertRule) { r.Name = "" }), "name"},
		{"bad group", ok(func(r *AlertRule) { r.Group = "Prod!" }), "group"},
		{"negative min_requests", ok(func(r *AlertRule) { r.MinRequests = -1 }), "min_requests"},
	} {
		err := c.r.Validate()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), c.field+":")):
			t.Errorf("%s: %v, want a problem with %s", c.name, err, c.field)
		}
	}
	r := ok(nil)
	if r.Window != "5m0s" || r.MinRequests != 10 || r.State != AlertOK || r.WindowDuration().Minutes() != 5 {
		t.Errorf("defaults = %+v", r)
	}
}
