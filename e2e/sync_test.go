package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// answersFrom waits until url is answered by the named test backend with
// the backend path want.
func answersFrom(t *testing.T, url, name, want string) {
	t.Helper()
	waitFor(t, url, 5*time.Second, func(status int, body []byte) bool {
		var echo struct{ Backend, Path string }
		return status == 200 && json.Unmarshal(body, &echo) == nil && echo.Backend == name && echo.Path == want
	})
}

// problemDetail calls the admin API expecting a problem with status want
// and answers its detail.
func (s *server) problemDetail(t *testing.T, method, path, body string, want int) string {
	t.Helper()
	var p struct{ Detail string }
	s.do(t, method, path, body, want, &p)
	return p.Detail
}

// TestSyncBetweenGroups syncs a version on one `portico server` serving groups test
// and production: publish 1.0.0 to test on node A, sync it to production on
// node B; production answers from B with version 1.0.0 and test still from
// A. Syncing a version that is not running, or a service that does not run
// in the source group, is refused; so is a route another service answers.
// Then the URLs move with a folder's path and a group's prefix, confirmed.
func TestSyncBetweenGroups(t *testing.T) {
	s := startServer(t, t.TempDir(), "--group", "test", "--group", "production")
	s.do(t, "PATCH", "/api/v1/gateway-groups/test", `{"path_prefix":"/api/gateway/test/{project}"}`, 200, nil)
	s.do(t, "PATCH", "/api/v1/gateway-groups/production", `{"path_prefix":"/api/gateway"}`, 200, nil)
	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	svcs := "/api/v1/projects/default/services"

	s.do(t, "POST", svcs, `{"name":"petstore","protocols":["http"]}`, 201, nil)
	s.do(t, "POST", svcs+"/petstore/routes", `{"name":"get_pet","paths":["/pet/{id}"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", svcs+"/petstore/publish", fmt.Sprintf(`{"group":"test","version":"1.0.0","upstream":%s}`, nodes(portA)), 201, nil)
	var synced struct {
		Group, Version string
		Revision       int64
	}
	s.do(t, "POST", svcs+"/petstore/sync", fmt.Sprintf(`{"from_group":"test","to_group":"production","upstream":%s}`, nodes(portB)), 200, &synced)
	if synced.Group != "production" || synced.Version != "1.0.0" || synced.Revision <= 0 {
		t.Fatalf("sync answer = %+v", synced)
	}
	answersFrom(t, s.Gateway+"/api/gateway/pet/1", "B", "/pet/1")
	answersFrom(t, s.Gateway+"/api/gateway/test/default/pet/1", "A", "/pet/1")

	var running struct {
		Items []struct {
			ServiceName string `json:"service_name"`
			Version     string
			URLs        []string
		}
	}
	s.do(t, "GET", "/api/v1/gateway-groups/production/services", "", 200, &running)
	if len(running.Items) != 1 || running.Items[0].Version != "1.0.0" || running.Items[0].URLs[0] != "/api/gateway/pet/{id}" {
		t.Fatalf("production runs %+v, want petstore 1.0.0", running.Items)
	}

	// Test moves on to 1.1.0; 1.0.0 is no longer the running version there.
	s.do(t, "POST", svcs+"/petstore/publish", `{"group":"test","version":"1.1.0"}`, 201, nil)
	if d := s.problemDetail(t, "POST", svcs+"/petstore/sync", `{"from_group":"test","to_group":"production","version":"1.0.0"}`, 409); !strings.Contains(d, "only the running version can be synced") {
		t.Errorf("sync of a version not running: detail %q", d)
	}
	s.do(t, "POST", svcs, `{"name":"orders"}`, 201, nil)
	s.do(t, "POST", svcs+"/orders/routes", `{"name":"list_orders","paths":["/orders"]}`, 201, nil)
	if d := s.problemDetail(t, "POST", svcs+"/orders/sync", `{"from_group":"test","to_group":"production"}`, 409); !strings.Contains(d, `"orders" runs no version in gateway group "test"`) {
		t.Errorf("sync of a service not in test: detail %q", d)
	}
	s.do(t, "POST", svcs+"/petstore/sync", `{"from_group":"test","to_group":"test"}`, 400, nil)

	// Another service on the same path shape is a 409 naming both.
	s.do(t, "POST", svcs, `{"name":"pets2"}`, 201, nil)
	s.do(t, "POST", svcs+"/pets2/routes", `{"name":"fetch","paths":["/pet/{petId}"]}`, 201, nil)
	d := s.problemDetail(t, "POST", svcs+"/pets2/publish", fmt.Sprintf(`{"group":"production","version":"1.0.0","upstream":%s}`, nodes(portA)), 409)
	for _, want := range []string{`"petstore"`, `"get_pet"`, `"fetch"`, "/api/gateway/pet/{petId}"} {
		if !strings.Contains(d, want) {
			t.Errorf("conflict detail %q does not name %s", d, want)
		}
	}
	// Production still runs 1.0.0 on B.
	answersFrom(t, s.Gateway+"/api/gateway/pet/2", "B", "/pet/2")
	answersFrom(t, s.Gateway+"/api/gateway/test/default/pet/2", "A", "/pet/2")

	// A service with the default path takes its folder's path; the folder's
	// path moves the running URL once confirmed.
	var folder struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/folders", `{"name":"商品域","path":"/prod"}`, 201, &folder)
	s.do(t, "POST", svcs, fmt.Sprintf(`{"name":"stock","path":"default","folder_id":%q}`, folder.ID), 201, nil)
	s.do(t, "POST", svcs+"/stock/routes", `{"name":"stock_level"}`, 201, nil)
	s.do(t, "POST", svcs+"/stock/publish", fmt.Sprintf(`{"group":"production","version":"1.0.0","upstream":%s}`, nodes(portA)), 201, nil)
	answersFrom(t, s.Gateway+"/api/gateway/prod/stock_level", "A", "/prod/stock_level")
	var moved struct {
		Changes []struct{ From, To string }
	}
	s.do(t, "PATCH", "/api/v1/projects/default/folders/"+folder.ID, `{"path":"/prod/stock"}`, 409, &moved)
	if len(moved.Changes) != 1 || moved.Changes[0].From != "/api/gateway/prod/stock_level" || moved.Changes[0].To != "/api/gateway/prod/stock/stock_level" {
		t.Errorf("folder move lists %+v", moved.Changes)
	}
	s.do(t, "PATCH", "/api/v1/projects/default/folders/"+folder.ID+"?confirm=true", `{"path":"/prod/stock"}`, 200, nil)
	answersFrom(t, s.Gateway+"/api/gateway/prod/stock/stock_level", "A", "/prod/stock/stock_level")

	// The production prefix moves every URL there, once confirmed.
	s.do(t, "PATCH", "/api/v1/gateway-groups/production", `{"path_prefix":"/gw"}`, 409, &moved)
	if len(moved.Changes) != 2 {
		t.Errorf("prefix move lists %+v, want petstore's and stock's URLs", moved.Changes)
	}
	s.do(t, "PATCH", "/api/v1/gateway-groups/production?confirm=true", `{"path_prefix":"/gw"}`, 200, nil)
	answersFrom(t, s.Gateway+"/gw/pet/3", "B", "/pet/3")
	waitFor(t, s.Gateway+"/api/gateway/pet/3", 5*time.Second, func(status int, _ []byte) bool { return status == 404 })
	s.do(t, "DELETE", "/api/v1/gateway-groups/production", "", 409, nil)
}
