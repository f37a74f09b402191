package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnpublishFromGroups: one release model for every way a service gets
// somewhere. A service published straight to the test group and synced to
// production says so (published, running in production and test); it is
// taken off production (with portico ctl), stops answering there while
// test still answers, the history records it; taken off test too it is a
// draft again and can be deleted. A service synced to production used to
// be neither removable nor deletable.
func TestUnpublishFromGroups(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "--group", "test", "--group", "production")
	s.do(t, "PATCH", "/api/v1/gateway-groups/test", `{"path_prefix":"/t"}`, 200, nil)
	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","name":"Shop","test_group":"test","production_group":"production"}`, 201, nil)
	_, port := backend(t, "A")
	svcs := "/api/v1/projects/shop/services"
	S := svcs + "/orders"
	s.do(t, "POST", svcs, `{"name":"orders"}`, 201, nil)
	s.do(t, "POST", S+"/routes", `{"name":"list_orders","paths":["/orders"],"methods":["GET"]}`, 201, nil)

	type placement struct {
		Group, Stage, Version string
	}
	var pub struct {
		State   string
		Running []placement
	}
	s.do(t, "POST", S+"/publish", fmt.Sprintf(`{"group":"test","version":"1.0.0","upstream":%s}`, nodes(port)), 201, &pub)
	if pub.State != "submitted" || len(pub.Running) != 1 || pub.Running[0] != (placement{"test", "test", "1.0.0"}) {
		t.Fatalf("publish to test answered %+v, want submitted, running in test", pub)
	}
	s.do(t, "POST", S+"/sync", `{"from_group":"test","to_group":"production"}`, 200, &pub)
	if pub.State != "published" || len(pub.Running) != 2 || pub.Running[0] != (placement{"production", "production", "1.0.0"}) {
		t.Fatalf("sync to production answered %+v, want published, production first", pub)
	}
	answersFrom(t, s.Gateway+"/orders", "A", "/orders")
	answersFrom(t, s.Gateway+"/t/orders", "A", "/orders")

	// Every list says where it runs.
	var list struct {
		Items []struct {
			Name, State    string
			Running        []placement
			AllowedActions []string `json:"allowed_actions"`
		}
	}
	s.do(t, "GET", svcs, "", 200, &list)
	if len(list.Items) != 1 || list.Items[0].State != "published" || len(list.Items[0].Running) != 2 ||
		!strings.Contains(strings.Join(list.Items[0].AllowedActions, ","), "unpublish") {
		t.Fatalf("services list = %+v", list.Items)
	}
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	s.mustCtl(t, cfg, "login")
	if out := s.mustCtl(t, cfg, "-p", "shop", "list", "services"); !strings.Contains(out, "production@1.0.0,test@1.0.0") {
		t.Errorf("ctl list services:\n%s", out)
	}

	// Deleting what runs is refused; taking it off production is not.
	s.do(t, "DELETE", S, "", 409, nil)
	out := s.mustCtl(t, cfg, "-p", "shop", "unpublish", "orders", "--group", "production", "-o", "json")
	if !strings.Contains(out, `"state": "submitted"`) {
		t.Errorf("ctl unpublish said:\n%s", out)
	}
	waitFor(t, s.Gateway+"/orders", 5*time.Second, func(status int, _ []byte) bool { return status == 404 })
	answersFrom(t, s.Gateway+"/t/orders", "A", "/orders")
	var hist struct {
		Items []struct {
			Group, Action string
			FromVersion   string `json:"from_version"`
		}
	}
	s.do(t, "GET", S+"/history", "", 200, &hist)
	if len(hist.Items) == 0 || hist.Items[0].Action != "unpublish" || hist.Items[0].Group != "production" || hist.Items[0].FromVersion != "1.0.0" {
		t.Errorf("history = %+v, want the unpublish from production first", hist.Items)
	}
	if d := s.problemDetail(t, "POST", S+"/unpublish", `{"group":"production"}`, 409); !strings.Contains(d, "does not run") {
		t.Errorf("second unpublish: %q", d)
	}
	s.do(t, "POST", S+"/unpublish", `{"group":"production","version":"1.0.0"}`, 400, nil)

	var res struct {
		State   string
		Running []placement
	}
	s.do(t, "POST", S+"/unpublish", `{"group":"test"}`, 200, &res)
	if res.State != "draft" || len(res.Running) != 0 {
		t.Errorf("unpublish from test = %+v, want a draft running nowhere", res)
	}
	waitFor(t, s.Gateway+"/t/orders", 5*time.Second, func(status int, _ []byte) bool { return status == 404 })
	s.do(t, "DELETE", S, "", 204, nil)
}
