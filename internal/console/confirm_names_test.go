package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Deleting a service, one of its routes or an upstream first asks,
// naming what goes, in English and in Chinese; the confirm button is
// inside the question, so a first click deletes nothing.
func TestDeleteConfirmationsNameTheObject(t *testing.T) {
	f := newFixture(t)
	rec := f.send("POST", "/p/default/services", url.Values{"name": {"orders"}, "protocols": {"http"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create service: %d %s", rec.Code, rec.Body)
	}
	svc := strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
	if rec := f.send("POST", svc+"/routes", url.Values{"name": {"list_orders"}, "paths": {"/orders"}, "methods": {"GET"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("add route: %d %s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/p/default/upstreams", url.Values{"name": {"billing"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create upstream: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct{ lang, page, want string }{
		{"en", svc, `id="svc-delete-what">Delete service orders and its routes?`},
		{"zh-CN", svc, `id="svc-delete-what">删除服务 orders 及其全部 API？`},
		{"en", svc, `id="route-delete-what-list_orders">Delete route list_orders of service orders?`},
		{"zh-CN", svc, `id="route-delete-what-list_orders">删除服务 orders 的 API list_orders？`},
		{"en", "/p/default/upstreams", `id="ups-delete-what-billing">Delete upstream billing?`},
		{"zh-CN", "/p/default/upstreams", `id="ups-delete-what-billing">删除上游 billing？`},
	} {
		rec := f.getIn(c.page, c.lang)
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d, lacks %s", c.lang, c.page, rec.Code, c.want)
		}
	}
	// The route's delete button is the confirmation's, not the summary's.
	body := f.send("GET", svc, nil, false).Body.String()
	summary := strings.Index(body, `id="route-delete-list_orders"`)
	question := strings.Index(body, `id="route-delete-what-list_orders"`)
	button := strings.Index(body, `id="route-delete-confirm-list_orders"`)
	if summary < 0 || !(summary < question && question < button) || strings.Contains(body[summary:question], "<form") {
		t.Errorf("the route's delete does not ask first (summary %d, question %d, button %d)", summary, question, button)
	}
}
