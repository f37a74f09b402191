package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUnpublishedMarker: after a route edit the service page marks the
// group whose running version the template differs from, linking to the
// diff; publishing the template takes the marker away.
func TestUnpublishedMarker(t *testing.T) {
	f := newFixture(t)
	sid := publishedService(t, f)
	page := "/p/default/services/" + sid
	if body := f.send("GET", page, nil, false).Body.String(); strings.Contains(body, `id="unpublished-default"`) {
		t.Fatal("marker right after the publish")
	}
	if rec := f.send("POST", page+"/routes/list", url.Values{"name": {"list"}, "paths": {"/items /things"}, "methods": {"GET"}, "backend_path": {"/v1"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit route: %d %s", rec.Code, rec.Body)
	}
	body := f.send("GET", page, nil, false).Body.String()
	link := `href="/p/default/services/` + sid + `/versions?from=1.0.0&amp;to=template"`
	if !strings.Contains(body, `id="unpublished-default"`) || !strings.Contains(body, link) || !strings.Contains(body, "Unpublished changes (1)") {
		t.Fatalf("no marker after the route edit:\n%s", body)
	}
	if diff := f.send("GET", page+"/versions?from=1.0.0&to=template", nil, false).Body.String(); !strings.Contains(diff, "routes[name=list].paths") {
		t.Errorf("the marker's diff does not show the edit")
	}
	if rec := f.send("POST", page+"/publish", url.Values{"group": {"default"}, "version": {"1.0.1"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", rec.Code, rec.Body)
	}
	if body := f.send("GET", page, nil, false).Body.String(); strings.Contains(body, `id="unpublished-default"`) {
		t.Error("marker still there after the publish")
	}
}
