package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// TestStreamRoutePlugins: a stream service's page edits each stream
// route's plugins (the stream plugins only), leaves its other stream
// routes as they were, shows a refused value beside its field, and
// removes a plugin.
func TestStreamRoutePlugins(t *testing.T) {
	f := newFixture(t)
	api := webpage.API{Handler: f.api}
	var svc spec.Service
	body := map[string]any{"name": "cache", "type": "stream",
		"stream_routes": []map[string]any{{"name": "redis", "listener": "redis"},
			{"name": "pg", "listener": "pg", "plugins": map[string]any{"limit-conn": map[string]any{"conn": 7}}}},
		"upstream": map[string]any{"scheme": "tcp", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 6379}}}}
	if _, err := api.Call(httptestRequest("POST", "/"), f.cookie.Value, "POST", "/projects/default/services", body, &svc); err != nil {
		t.Fatalf("create the stream service: %v", err)
	}
	page := "/p/default/services/" + svc.ID + "/plugins"
	read := func() spec.Service {
		t.Helper()
		var got spec.Service
		if _, err := api.Call(httptestRequest("GET", "/"), f.cookie.Value, "GET", "/projects/default/services/"+svc.ID, nil, &got); err != nil {
			t.Fatalf("read the service: %v", err)
		}
		return got
	}

	shown := f.send("GET", page+"?scope="+streamScope+"redis&add=limit-conn", nil, false).Body.String()
	section := shown[strings.Index(shown, `id="plugins-stream-route-redis"`):]
	section = section[:strings.Index(section, "</section>")]
	addable := section[strings.Index(section, `class="add-plugin-name"`):]
	addable = addable[:strings.Index(addable, "</select>")]
	if !strings.Contains(addable, ">ip-restriction") || !strings.Contains(addable, ">limit-conn") || strings.Contains(addable, ">key-auth") {
		t.Errorf("the stream route offers other than the stream plugins: %s", addable)
	}
	if !strings.Contains(section, `name="cfg.conn"`) {
		t.Errorf("?add=limit-conn opens no form with its conn field: %s", section)
	}

	rec := f.send("POST", page, url.Values{"scope": {streamScope + "redis"}, "plugin": {"limit-conn"}, "cfg.conn": {"5"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save limit-conn: %d %s", rec.Code, rec.Body)
	}
	got := read()
	if c := compact(got.StreamRoutes[0].Plugins["limit-conn"]); c != `{"conn":5}` {
		t.Errorf("redis's limit-conn stored as %s", c)
	}
	if c := compact(got.StreamRoutes[1].Plugins["limit-conn"]); c != `{"conn":7}` || got.StreamRoutes[1].Listener != "pg" {
		t.Errorf("the other stream route changed: %+v", got.StreamRoutes[1])
	}

	rec = f.send("POST", page, url.Values{"scope": {streamScope + "pg"}, "plugin": {"limit-conn"}, "cfg.conn": {"0"}}, true)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("conn 0: %d, want 400", rec.Code)
	}
	form := rec.Body.String()
	form = form[strings.Index(form, `id="`+pluginFormID(streamScope+"pg", "limit-conn")+`"`):]
	form = form[:strings.Index(form, "</form>")]
	if !strings.Contains(form, `value="0"`) || !strings.Contains(form, `class="ferr"`) {
		t.Errorf("the refused form lost the input or shows no message beside it: %s", form)
	}
	if strings.Contains(rec.Body.String(), `id="field-errors"`) {
		t.Error("the message beside conn is listed again under the banner")
	}

	rec = f.send("POST", page+"/remove", url.Values{"scope": {streamScope + "pg"}, "plugin": {"limit-conn"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", rec.Code, rec.Body)
	}
	got = read()
	if _, on := got.StreamRoutes[1].Plugins["limit-conn"]; on || got.StreamRoutes[0].Plugins["limit-conn"] == nil {
		t.Errorf("after removing pg's limit-conn: %+v", got.StreamRoutes)
	}
}
