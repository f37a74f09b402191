package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// TestAlertsPage: a provider creates a rule from the Alerts page (a
// refused one comes back with its field's message), the rule fires (as
// the evaluator records it) and shows first with its badge, in the
// navigation's count and in the recent changes, in English and Chinese;
// it is edited and deleted; a viewer sees it without the forms.
func TestAlertsPage(t *testing.T) {
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test"})
	admin := (&fixture{api: api, h: New(Config{API: api})}).loginAs(t, "admin", "pw")
	admin.mkProject(t, "shop")
	for user, role := range map[string]string{"prov": "api_provider", "view": "viewer"} {
		admin.mkUser(t, user, "user")
		admin.member(t, "shop", user, role)
	}
	var orders, billing spec.Service
	admin.apiCall(t, "POST", "/projects/shop/services", map[string]any{"name": "orders", "protocols": []string{"http"}}, http.StatusCreated, &orders)
	admin.apiCall(t, "POST", "/projects/shop/services", map[string]any{"name": "billing", "protocols": []string{"http"}}, http.StatusCreated, &billing)
	prov, view := admin.as(t, "prov"), admin.as(t, "view")

	body := wantPage(t, "empty page", prov.send("GET", "/p/shop/alerts", nil, false), http.StatusOK,
		`id="alerts-none"`, `id="alert-new"`, `<option value="`+orders.ID+`"`, `id="nav-alerts"`)
	lacks(t, "empty page", body, `id="nav-badge-alerts"`)

	form := url.Values{"service": {orders.ID}, "name": {"errors"}, "metric": {"error_rate"}, "threshold": {"1.5"},
		"window": {"1m"}, "enabled": {"on"}}
	wantPage(t, "refused rule", prov.send("POST", "/p/shop/alerts", form, true), http.StatusBadRequest, "threshold", `value="1.5"`)
	form.Set("threshold", "0.05")
	if rec := prov.send("POST", "/p/shop/alerts", form, true); rec.Code != http.StatusSeeOther || location(rec) != "/p/shop/alerts" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	form = url.Values{"service": {billing.ID}, "name": {"slow"}, "metric": {"p99_ms"}, "threshold": {"250"}, "enabled": {"on"}}
	if rec := prov.send("POST", "/p/shop/alerts", form, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create slow: %d %s", rec.Code, rec.Body)
	}

	var rules struct{ Items []spec.AlertRule }
	admin.apiCall(t, "GET", "/projects/shop/alerts", nil, http.StatusOK, &rules)
	if len(rules.Items) != 2 {
		t.Fatalf("rules = %+v", rules.Items)
	}
	var errorsRule spec.AlertRule
	for _, r := range rules.Items {
		if r.Name == "errors" {
			errorsRule = r
		}
	}
	// The evaluator fires the errors rule.
	ctx := context.Background()
	at := time.Now()
	err := st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.TransitionAlert(ctx, errorsRule.ID, spec.AlertOK, spec.AlertFiring, 0.25, at); err != nil {
			return err
		}
		return tx.AddAlertEvent(ctx, &spec.AlertEvent{Rule: errorsRule.ID, RuleName: "errors", Project: "shop", Service: orders.ID,
			ServiceName: "orders", Group: "default", State: spec.AlertFiring, Metric: spec.AlertErrorRate, Value: 0.25,
			Threshold: 0.05, Window: "1m", Requests: 40, At: at}, spec.AlertHistoryKept)
	})
	if err != nil {
		t.Fatal(err)
	}
	body = wantPage(t, "firing", prov.send("GET", "/p/shop/alerts", nil, false), http.StatusOK,
		`id="nav-badge-alerts">1<`, `id="alerts-firing"`, `class="alert-event" data-state="firing"`, "25.0 %", "250.0 ms")
	if i, j := strings.Index(body, `data-alert="errors"`), strings.Index(body, `data-alert="slow"`); i < 0 || j < 0 || i > j {
		t.Errorf("the firing rule is not listed first (%d, %d)", i, j)
	}
	wantPage(t, "in Chinese", prov.getIn("/p/shop/alerts", "zh-CN"), http.StatusOK, "告警中", "最近的状态变化")
	wantPage(t, "another page's navigation", prov.send("GET", "/p/shop/services", nil, false), http.StatusOK, `id="nav-badge-alerts">1<`)

	// The viewer reads, without forms.
	body = wantPage(t, "viewer", view.send("GET", "/p/shop/alerts", nil, false), http.StatusOK, `data-alert="errors"`)
	lacks(t, "viewer", body, `id="alert-new"`, `class="alert-edit"`)
	if rec := view.send("POST", "/p/shop/alerts", form, true); rec.Code != http.StatusForbidden {
		t.Errorf("viewer creates: %d", rec.Code)
	}

	// Edit: disabled, a new threshold.
	edit := url.Values{"name": {"errors"}, "metric": {"error_rate"}, "threshold": {"0.1"}, "window": {"2m"}, "min_requests": {"20"}}
	if rec := prov.send("POST", "/p/shop/alerts/"+orders.ID+"/"+errorsRule.ID, edit, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	var got spec.AlertRule
	admin.apiCall(t, "GET", "/projects/shop/services/"+orders.ID+"/alerts/"+errorsRule.ID, nil, http.StatusOK, &got)
	if got.Enabled || got.Threshold != 0.1 || got.Window != "2m" || got.MinRequests != 20 || got.State != spec.AlertOK {
		t.Errorf("after the edit: %+v", got)
	}
	if rec := prov.send("POST", "/p/shop/alerts/"+orders.ID+"/"+errorsRule.ID+"/delete", url.Values{}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	body = wantPage(t, "after delete", prov.send("GET", "/p/shop/alerts", nil, false), http.StatusOK, `data-alert="slow"`)
	lacks(t, "after delete", body, `data-alert="errors"`, `id="nav-badge-alerts"`)
}

// TestAlertMessagesOverrideNothing: the alerts catalogue adds keys only,
// and names every metric.
func TestAlertMessagesOverrideNothing(t *testing.T) {
	if len(alertsOverridden) > 0 {
		t.Errorf("i18n_alerts.go redefines keys: %v", alertsOverridden)
	}
	for _, m := range spec.AlertMetrics {
		if !messages.Has("alert.metric_" + m) {
			t.Errorf("no message alert.metric_%s", m)
		}
	}
}
