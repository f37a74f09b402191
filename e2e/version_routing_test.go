package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// getWith answers GET url with the header set (name empty: none).
func getWith(t *testing.T, url, name, value string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestVersionRouting: two versions of one service answer side by side in
// one group, chosen by a header, with the default when it is absent; a
// route only the new version has answers only when the header names it;
// the group's running list shows both; then by path segment; then only
// the default again. Each change is a revision the gateway applies at once.
func TestVersionRouting(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	svcs := "/api/v1/projects/default/services"
	S := svcs + "/orders"
	s.do(t, "POST", svcs, `{"name":"orders","path":"/orders"}`, 201, nil)
	s.do(t, "POST", S+"/routes", `{"name":"list","paths":["/list"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", S+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(portA)), 201, nil)
	s.do(t, "POST", S+"/routes", `{"name":"export","paths":["/export"],"methods":["GET"]}`, 201, nil)
	// 2.0.0 to a group of its own first, so it exists as a version.
	s.do(t, "POST", "/api/v1/gateway-groups", `{"name":"staging","path_prefix":"/staging"}`, 201, nil)
	s.do(t, "POST", S+"/publish", fmt.Sprintf(`{"group":"staging","version":"2.0.0","upstream":%s}`, nodes(portB)), 201, nil)

	s.do(t, "PUT", S+"/version-routing?wait=5s", fmt.Sprintf(`{"group":"default","by":"header","name":"X-API-Version",
		"versions":[{"version":"2.0.0","match":"2","upstream":%s}]}`, nodes(portB)), 200, nil)
	answersFrom(t, s.Gateway+"/orders/list", "A", "/orders/list")
	served := func(header, value, path string) (int, string) {
		t.Helper()
		status, body := getWith(t, s.Gateway+path, header, value)
		var echo struct{ Backend string }
		_ = json.Unmarshal([]byte(body), &echo)
		return status, echo.Backend
	}
	for _, c := range []struct {
		value, path string
		status      int
		backend     string
	}{
		{"", "/orders/list", 200, "A"},       // no header: the default
		{"2", "/orders/list", 200, "B"},      // the header names 2.0.0
		{"1.0.0", "/orders/list", 200, "A"},  // and the default by its version
		{"", "/orders/export", 404, ""},      // only 2.0.0 has export
		{"2", "/orders/export", 200, "B"},    // …and answers it when named
		{"9", "/orders/list", 404, ""},       // a version that does not run
		{"1.0.0", "/orders/export", 404, ""}, // the default has no export
	} {
		status, backend := served("X-API-Version", c.value, c.path)
		if status != c.status || backend != c.backend {
			t.Errorf("X-API-Version %q %s: %d from %q, want %d from %q", c.value, c.path, status, backend, c.status, c.backend)
		}
	}

	// The hidden paths of header-routed versions cannot be asked for.
	if status, _ := getWith(t, s.Gateway+"/%01h:x-api-version=2/orders/export", "", ""); status != 400 {
		t.Errorf("GET the escaped hidden path: %d, want 400", status)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.Gateway, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /\x01h:x-api-version=2/orders/export HTTP/1.1\r\nHost: x\r\n\r\n")
	if line, _ := bufio.NewReader(conn).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("GET the raw hidden path: %q, want 400", line)
	}

	var running struct {
		Items []struct {
			ServiceName string `json:"service_name"`
			Version     string
			Versions    []struct{ Version, Selector string }
		}
	}
	s.do(t, "GET", "/api/v1/gateway-groups/default/services", "", 200, &running)
	if len(running.Items) != 1 || len(running.Items[0].Versions) != 2 ||
		running.Items[0].Versions[0].Version != "1.0.0" || !strings.HasPrefix(running.Items[0].Versions[0].Selector, "default") ||
		running.Items[0].Versions[1] != (struct{ Version, Selector string }{"2.0.0", "header X-API-Version: 2"}) {
		t.Errorf("running list = %+v", running.Items)
	}

	// Refusals name the field.
	s.do(t, "PUT", S+"/version-routing", `{"group":"default","by":"header","name":"X-API-Version","versions":[{"version":"9.9.9"}]}`, 400, nil)
	s.do(t, "PUT", S+"/version-routing", `{"group":"default","by":"cookie","versions":[{"version":"2.0.0"}]}`, 400, nil)
	s.do(t, "PUT", S+"/version-routing", `{"group":"default","by":"path","versions":[{"version":"1.0.0"}]}`, 400, nil)
	s.do(t, "PUT", S+"/version-routing", `{"group":"default","by":"path","versions":[{"version":"2.0.0"}],"color":"red"}`, 400, nil)

	// By path segment: /orders/v2/… is 2.0.0, /orders/… the default.
	s.do(t, "PUT", S+"/version-routing?wait=5s", `{"group":"default","by":"path","versions":[{"version":"2.0.0","match":"v2"}]}`, 200, nil)
	answersFrom(t, s.Gateway+"/orders/v2/export", "A", "/orders/v2/export") // no upstream given: the deployment's
	if status, backend := served("X-API-Version", "2", "/orders/list"); status != 200 || backend != "A" {
		t.Errorf("by path, the header means nothing: %d %q", status, backend)
	}

	s.do(t, "DELETE", S+"/version-routing?group=default", "", 200, nil)
	waitFor(t, s.Gateway+"/orders/v2/export", 5*time.Second, func(status int, _ []byte) bool { return status == 404 })
	var hist struct {
		Items []struct{ Action, Group, Detail string }
	}
	s.do(t, "GET", S+"/history?group=default", "", 200, &hist)
	if len(hist.Items) < 3 || hist.Items[0].Action != "version-routing" || !strings.Contains(hist.Items[1].Detail, "by path") {
		t.Errorf("history = %+v", hist.Items)
	}
}
