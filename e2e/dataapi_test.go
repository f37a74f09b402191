package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// dataDB creates a database of the test's own on the machine's PostgreSQL
// or MariaDB (dropped after the test), with a users table, and returns its
// name. It skips when the server is not running (.ci/run starts both).
func dataDB(t *testing.T, typ string) string {
	t.Helper()
	name, driver, dsn := newDatabase(t, typ)
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range []string{
		"CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, age INT NOT NULL)",
		"INSERT INTO users (id, name, age) VALUES (1, 'alice', 30), (2, 'bob', 41), (3, 'carol', 25), (4, 'dave', 52), (5, 'erin', 33)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return name
}

// newDatabase creates an empty database of the test's own on the
// machine's PostgreSQL ("postgres") or MariaDB ("mysql"), dropped after
// the test, and answers its name, driver and DSN. It skips when the server
// is not running, unless PORTICO_REQUIRE_DATABASES is set.
func newDatabase(t *testing.T, typ string) (name, driver, dsn string) {
	t.Helper()
	addr, driver, format := "127.0.0.1:5432", "pgx", "postgres://%s@127.0.0.1:5432/%s?sslmode=disable"
	user := "postgres"
	if typ == "mysql" {
		addr, driver, format, user = "127.0.0.1:3306", "mysql", "%s@tcp(127.0.0.1:3306)/%s", "root"
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			t.Fatalf("%s is not running on %s", typ, addr)
		}
		t.Skipf("%s is not running on %s", typ, addr)
	} else {
		_ = c.Close()
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = "portico_e2e_" + hex.EncodeToString(b)
	admin, err := sql.Open(driver, fmt.Sprintf(format, user, "test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		q := "DROP DATABASE " + name
		if typ != "mysql" {
			q += " WITH (FORCE)"
		}
		if _, err := admin.Exec(q); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		_ = admin.Close()
	})
	return name, driver, fmt.Sprintf(format, user, name)
}

type page struct {
	Items    []map[string]any
	Page     int
	PageSize int `json:"page_size"`
	Total    *int
}

func getJSON(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestGeneratedDataAPI runs the generated data API flow on each database:
// register a data source (its password never shown, not stored in clear),
// generate user_info in wizard mode from users, a script-mode API with a
// path parameter and a body field, a write API; submit, the test URL
// answers rows filtered by a query parameter and pages; publish, the
// production URL answers, its data source mapped to production's own.
func TestGeneratedDataAPI(t *testing.T) {
	for _, typ := range []string{"postgres", "mysql"} {
		t.Run(typ, func(t *testing.T) { generatedDataAPI(t, typ) })
	}
}

func generatedDataAPI(t *testing.T, typ string) {
	testDB, prodDB := dataDB(t, typ), dataDB(t, typ)
	dir := t.TempDir()
	s := lifecycleServer(t, dir)
	user := map[string]string{"postgres": "postgres", "mysql": "root"}[typ]
	const password = "pw-e2e-never-shown-4711"
	D := "/api/v1/projects/shop/data-sources"
	var ds struct {
		ID          string
		Password    string
		HasPassword bool `json:"has_password"`
	}
	// Trust auth (PostgreSQL) and an empty root password (MariaDB) accept
	// any password, so it can be set and checked for secrecy here.
	pw := `,"password":"` + password + `"`
	if typ == "mysql" {
		pw = ""
	}
	s.do(t, "POST", D, fmt.Sprintf(`{"name":"crm_test","type":%q,"host":"127.0.0.1","database":%q,"user":%q%s,"pool":{"max_open":4}}`,
		typ, testDB, user, pw), 201, &ds)
	if ds.Password != "" || (typ == "postgres" && !ds.HasPassword) {
		t.Fatalf("create answered %+v", ds)
	}
	body := s.do(t, "GET", D+"/"+ds.ID, "", 200, nil)
	if strings.Contains(string(body), password) || strings.Contains(string(body), "sealed") {
		t.Fatalf("GET shows the password: %s", body)
	}
	var prod struct{ ID string }
	s.do(t, "POST", D, fmt.Sprintf(`{"name":"crm_prod","type":%q,"host":"127.0.0.1","database":%q,"user":%q}`, typ, prodDB, user), 201, &prod)
	var test struct {
		OK        bool
		LatencyMS float64 `json:"latency_ms"`
	}
	s.do(t, "POST", D+"/"+ds.ID+"/test", "", 200, &test)
	if !test.OK || test.LatencyMS <= 0 {
		t.Fatalf("test: %+v", test)
	}

	// The service: wizard, script (path + body), write.
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/shop/services", `{"name":"user","path":"/user/active"}`, 201, &svc)
	R := "/api/v1/projects/shop/services/" + svc.ID + "/routes"
	var route struct {
		Backend struct {
			ResultColumns []struct{ Name, Type string } `json:"result_columns"`
			Filters       []struct{ Type string }
		}
	}
	s.do(t, "POST", R, `{"name":"user_info","methods":["GET"],"backend":{"type":"sql","data_source":"crm_test","table":"users",
		"columns":["id","name","age"],"filters":[{"param":"name","op":"="},{"param":"min_age","column":"age","op":">"}],
		"order":"id","page_size":2}}`, 201, &route)
	if rc := route.Backend.ResultColumns; len(rc) != 3 || rc[0].Name != "id" || rc[0].Type != "integer" || rc[1].Type != "string" ||
		route.Backend.Filters[1].Type != "integer" {
		t.Fatalf("wizard route: columns and filter types not derived: %+v", route.Backend)
	}
	s.do(t, "POST", R, `{"name":"user_by_id","paths":["/users/{id}"],"methods":["POST"],"backend":{"type":"sql","data_source":"crm_test",
		"sql":"select id, name, age from users where id = :id and age >= :min_age",
		"params":[{"name":"id","in":"path","type":"integer"},{"name":"min_age","in":"body","type":"integer"}]}}`, 201, nil)
	s.do(t, "POST", R, `{"name":"add_user","paths":["/users"],"methods":["PUT"],"backend":{"type":"sql","data_source":"crm_test","allow_write":true,
		"sql":"insert into users (id, name, age) values (:id, :name, :age)",
		"params":[{"name":"id","in":"body","type":"integer"},{"name":"name","in":"body"},{"name":"age","in":"body","type":"integer"}]}}`, 201, nil)
	// A script the database refuses is refused when saved, naming the field.
	bad := s.do(t, "POST", R, `{"name":"broken","backend":{"type":"sql","data_source":"crm_test","sql":"select nope from users"}}`, 400, nil)
	if !strings.Contains(string(bad), "backend.sql") {
		t.Fatalf("bad script: %s", bad)
	}
	// Deleting a data source a route uses is refused, naming the routes.
	refused := s.do(t, "DELETE", D+"/"+ds.ID, "", 409, nil)
	for _, r := range []string{"user/user_info", "user/user_by_id", "user/add_user"} {
		if !strings.Contains(string(refused), r) {
			t.Errorf("delete refusal does not name %s: %s", r, refused)
		}
	}

	// The description file is derived from the definitions: typed
	// parameters, paging, and the returned columns.
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name, In string
				Schema   struct{ Type string }
			}
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Properties struct {
							Items struct {
								Items struct {
									Properties map[string]any
								}
							}
						}
					}
				}
			}
		}
	}
	s.do(t, "GET", "/api/v1/projects/shop/services/"+svc.ID+"/openapi", "", 200, &doc)
	op, ok := doc.Paths["/user_info"]["get"] // servers carry the service path
	if !ok {
		t.Fatalf("description file has no GET /user_info: %v", doc.Paths)
	}
	types := map[string]string{}
	for _, prm := range op.Parameters {
		types[prm.Name] = prm.Schema.Type
	}
	cols := op.Responses["200"].Content["application/json"].Schema.Properties.Items.Items.Properties
	if types["min_age"] != "integer" || types["page_size"] != "integer" || len(cols) != 3 || cols["age"] == nil {
		t.Errorf("description file of user_info: parameters %v, columns %v", types, cols)
	}

	// Submit: the test URL answers from the test database.
	s.do(t, "POST", "/api/v1/projects/shop/services/"+svc.ID+"/actions/submit", `{"version":"1.0.0"}`, 200, nil)
	testBase := s.Gateway + "/api/gateway/test/shop/user/active"
	waitFor(t, testBase+"/user_info?name=alice", 5*time.Second, func(status int, _ []byte) bool { return status == 200 })
	status, b := getJSON(t, "GET", testBase+"/user_info?name=alice", "")
	var p page
	if status != 200 || json.Unmarshal(b, &p) != nil || len(p.Items) != 1 || p.Items[0]["name"] != "alice" || p.Items[0]["age"] != float64(30) {
		t.Fatalf("user_info?name=alice: %d %s", status, b)
	}
	status, b = getJSON(t, "GET", testBase+"/user_info?page=2&total=true", "")
	if p = (page{}); status != 200 || json.Unmarshal(b, &p) != nil || len(p.Items) != 2 || p.Items[0]["id"] != float64(3) ||
		p.Page != 2 || p.PageSize != 2 || p.Total == nil || *p.Total != 5 {
		t.Fatalf("page 2: %d %s", status, b)
	}
	status, b = getJSON(t, "GET", testBase+"/user_info?min_age=old", "")
	if status != 400 || !strings.Contains(string(b), "min_age") {
		t.Fatalf("mistyped min_age: %d %s", status, b)
	}
	status, b = getJSON(t, "POST", testBase+"/users/2", `{"min_age": 40}`)
	if p = (page{}); status != 200 || json.Unmarshal(b, &p) != nil || len(p.Items) != 1 || p.Items[0]["name"] != "bob" {
		t.Fatalf("script: %d %s", status, b)
	}
	status, b = getJSON(t, "POST", testBase+"/users/2", `{}`)
	if status != 400 || !strings.Contains(string(b), "min_age") {
		t.Fatalf("script without min_age: %d %s", status, b)
	}
	status, b = getJSON(t, "PUT", testBase+"/users", `{"id": 6, "name": "frank", "age": 61}`)
	if status != 200 || !strings.Contains(string(b), `"rows_affected":1`) {
		t.Fatalf("write: %d %s", status, b)
	}
	status, b = getJSON(t, "GET", testBase+"/user_info?name=frank", "")
	if status != 200 || !strings.Contains(string(b), `"frank"`) {
		t.Fatalf("after the write: %d %s", status, b)
	}

	// Publish to production with production's own database.
	s.do(t, "POST", "/api/v1/projects/shop/services/"+svc.ID+"/actions/publish", `{"data_sources":{"crm_test":"crm_prod"}}`, 200, nil)
	prodURL := s.Gateway + "/api/gateway/user/active/user_info?name=frank"
	waitFor(t, prodURL, 5*time.Second, func(status int, _ []byte) bool { return status == 200 })
	status, b = getJSON(t, "GET", prodURL, "")
	if status != 200 || strings.Contains(string(b), "frank") {
		t.Fatalf("production reads the test database: %d %s", status, b)
	}
	status, b = getJSON(t, "GET", s.Gateway+"/api/gateway/user/active/user_info?name=alice", "")
	if status != 200 || !strings.Contains(string(b), `"alice"`) {
		t.Fatalf("production: %d %s", status, b)
	}
	// Editing the production data source is a release of the services
	// that query it: a new revision of the group, in their history.
	var before, after struct{ Revision int64 }
	s.do(t, "GET", "/api/v1/gateway-groups/production", "", 200, &before)
	s.do(t, "PATCH", D+"/"+prod.ID, `{"pool":{"max_open":3}}`, 200, nil)
	s.do(t, "GET", "/api/v1/gateway-groups/production", "", 200, &after)
	if after.Revision <= before.Revision {
		t.Errorf("editing a data source in use left group production at revision %d (was %d)", after.Revision, before.Revision)
	}
	var hist struct {
		Items []struct{ Action, Group string }
	}
	s.do(t, "GET", "/api/v1/projects/shop/services/"+svc.ID+"/history", "", 200, &hist)
	if len(hist.Items) == 0 || hist.Items[0].Action != "data_source.update" || hist.Items[0].Group != "production" {
		t.Errorf("the service's history does not start with the data source edit: %+v", hist.Items)
	}
	// The password is not in the store's files in clear.
	if typ == "postgres" {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), password) {
				t.Errorf("%s holds the password in clear", f)
			}
		}
	}
}
