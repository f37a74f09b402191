package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDataAPIConsoleBrowser: in the console, a data source is registered
// (its connection tested), a wizard route is made from its table's
// columns, run through the test group, and the pages read in Chinese.
func TestDataAPIConsoleBrowser(t *testing.T) {
	t.Parallel() // its own server and database
	db := dataDB(t, "postgres")
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	u := &ui{t: t, ctx: ctx, s: s}
	u.adminLogin()

	u.open("/p/default/data-sources")
	u.click("#new-data-source")
	for field, v := range map[string]string{"name": "crm", "host": "127.0.0.1", "port": "5432", "database": db, "user": "postgres",
		"password": "s3cret", "params": "sslmode=disable"} {
		u.do("fill "+field, chromedp.SetValue(chromedp.CSS(`#ds-create-form [name="`+field+`"]`), v))
	}
	u.click("#ds-create")
	u.waitText("#ds-name", "crm")
	u.click("#ds-test")
	u.waitText("#ds-test-result", "Connected in")

	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"user","path":"/user"}`, 201, &svc)
	u.open("/p/default/data-apis?service=" + svc.ID)
	u.click("#dapi-new-wizard")
	u.waitText("#data-api-title", "Data API wizard")
	u.do("pick the data source", chromedp.SetValue(chromedp.CSS("#dapi-ds"), "crm"))
	u.click("#dapi-pick-next")
	u.waitText("#dapi-table", "users")
	u.do("pick the table", chromedp.SetValue(chromedp.CSS("#dapi-table"), "users"))
	u.click("#dapi-pick-next")
	u.waitText("#dapi-columns", "name")
	u.fill("#dapi-name", "user_info")
	u.click("#dapi-col-id")
	u.click("#dapi-col-name")
	u.fill("#dapi-filter-param-0", "name")
	u.fill("#dapi-page-size", "20")
	u.click("#dapi-save")
	u.waitText("#dapi-route-table", "users")
	u.waitText("#dapi-result-columns", "name")

	// On the test group, through the page's test run.
	s.do(t, "POST", "/api/v1/projects/default/services/user/actions/submit", `{"version":"1.0.0"}`, 200, nil)
	var g struct {
		PathPrefix string `json:"path_prefix"`
	}
	s.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &g)
	base := s.Gateway + strings.ReplaceAll(g.PathPrefix, "{project}", "default") + "/user"
	waitFor(t, base+"/user_info", 5*time.Second, func(status int, _ []byte) bool { return status == 200 })
	u.fill("#dapi-preview-path", "/user_info?name=alice")
	u.click("#dapi-preview")
	u.waitText("#dapi-preview-status", "200")
	u.waitText("#dapi-preview-body", `"alice"`)

	u.click("#lang-zh")
	u.waitText("#dapi-preview-card h2", "在测试网关组上预览")
	u.open("/p/default/data-sources")
	u.waitText("#data-sources-title", "数据源")
	u.open("/p/default/services/" + svc.ID + "/data-api?mode=wizard")
	u.waitText("#data-api-title", "生成 API 向导")
}
