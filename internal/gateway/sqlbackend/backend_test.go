package sqlbackend

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

type answer struct {
	Items    []map[string]any `json:"items"`
	Page     int              `json:"page"`
	PageSize int              `json:"page_size"`
	Total    *int             `json:"total"`
	Affected *int             `json:"rows_affected"`
}

func newFilter(t testing.TB, reg *Registry, ds *spec.DataSource, be spec.SQLBackend, timeout time.Duration) *Filter {
	t.Helper()
	st, err := Compile(&be, ds.Type)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	pool, err := reg.Get(ds)
	if err != nil {
		t.Fatal(err)
	}
	return NewFilter(st, pool, timeout)
}

func call(t testing.TB, f *Filter, query map[string]string) (int, []byte) {
	t.Helper()
	b := plugintest.New("127.0.0.1")
	for k, v := range query {
		b.ReqQuery[k] = v
	}
	f.OnRequest(b.Exchange())
	if b.Errors > 0 {
		return b.ErrorStatus, b.ErrorBody
	}
	return b.Status, b.RespBody
}

func decode(t testing.TB, body []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return a
}

func wizard() spec.SQLBackend {
	return spec.SQLBackend{DataSource: "crm", Table: "users", Columns: []string{"id", "name", "age", "score"},
		Filters: []spec.SQLFilter{
			{Param: "name", Op: "="},
			{Param: "min_age", Column: "age", Op: ">", Type: "integer"},
			{Param: "ids", Column: "id", Op: "in", Type: "integer"},
			{Param: "like", Column: "name", Op: "like"},
		},
		Order: "id", PageSize: 10, MaxPageSize: 100}
}

func TestWizard(t *testing.T) {
	for _, typ := range []string{spec.DataSourcePostgres, spec.DataSourceMySQL} {
		t.Run(typ, func(t *testing.T) {
			ds := testDB(t, typ)
			seedUsers(t, ds, 45)
			reg := NewRegistry(0)
			defer reg.Close()
			f := newFilter(t, reg, ds, wizard(), 0)

			status, body := call(t, f, map[string]string{"name": "alice"})
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			a := decode(t, body)
			if len(a.Items) != 1 || a.Items[0]["name"] != "alice" || a.Items[0]["id"] != float64(1) || a.Items[0]["score"] != 0.25 {
				t.Fatalf("name=alice: %s", body)
			}
			if a.Page != 1 || a.PageSize != 10 || a.Total != nil {
				t.Fatalf("paging: %s", body)
			}

			status, body = call(t, f, map[string]string{"page": "2", "page_size": "20", "total": "true"})
			a = decode(t, body)
			if status != 200 || len(a.Items) != 20 || a.Items[0]["id"] != float64(21) || a.Total == nil || *a.Total != 45 {
				t.Fatalf("page 2: %d %s", status, body)
			}
			_, body = call(t, f, map[string]string{"ids": "3,5,7", "min_age": "24"})
			if a = decode(t, body); len(a.Items) != 2 || a.Items[0]["id"] != float64(5) {
				t.Fatalf("ids+min_age: %s", body)
			}
			_, body = call(t, f, map[string]string{"like": "user4%", "total": "1"})
			if a = decode(t, body); len(a.Items) != 7 || *a.Total != 7 {
				t.Fatalf("like: %s", body)
			}
			for q, want := range map[string]string{"min_age": "must be an integer", "ids": "must be an integer", "page_size": "from 1 to 100"} {
				status, body = call(t, f, map[string]string{q: "x1"})
				if status != 400 || !strings.Contains(string(body), q) || !strings.Contains(string(body), want) {
					t.Errorf("%s=x1: %d %s", q, status, body)
				}
			}
		})
	}
}

func TestScript(t *testing.T) {
	for _, typ := range []string{spec.DataSourcePostgres, spec.DataSourceMySQL} {
		t.Run(typ, func(t *testing.T) {
			ds := testDB(t, typ)
			seedUsers(t, ds, 30)
			reg := NewRegistry(0)
			defer reg.Close()
			f := newFilter(t, reg, ds, spec.SQLBackend{DataSource: "crm",
				SQL:    "select id, name from users -- :not_a_param\n where age >= :min and name <> ':x' order by id desc",
				Params: []spec.SQLParam{{Name: "min", Type: "integer"}}}, 0)
			status, body := call(t, f, map[string]string{"min": "45", "total": "true"})
			a := decode(t, body)
			if status != 200 || len(a.Items) != 6 || a.Items[0]["id"] != float64(30) || *a.Total != 6 {
				t.Fatalf("script: %d %s", status, body)
			}
			status, body = call(t, f, nil)
			if status != 400 || !strings.Contains(string(body), "parameter min: is required") {
				t.Fatalf("missing: %d %s", status, body)
			}
			// Read-only unless allow_write: a write hidden in a query fails.
			sneaky := "with d as (delete from users returning id) select id from d"
			if typ == spec.DataSourceMySQL {
				sneaky = "select id from users where id = :one for update"
			}
			be := spec.SQLBackend{DataSource: "crm", SQL: sneaky}
			if typ == spec.DataSourceMySQL {
				be.Params = []spec.SQLParam{{Name: "one", Type: "integer"}}
			}
			ro := newFilter(t, reg, ds, be, 0)
			status, body = call(t, ro, map[string]string{"one": "1"})
			if typ == spec.DataSourcePostgres && (status != 403 || !strings.Contains(string(body), "read-only")) {
				t.Fatalf("write in a read-only route: %d %s", status, body)
			}
			// A write route.
			ins := "insert into users (id, name, age) values (:id, :name, 33)"
			w := newFilter(t, reg, ds, spec.SQLBackend{DataSource: "crm", SQL: ins, AllowWrite: true,
				Params: []spec.SQLParam{{Name: "id", Type: "integer"}, {Name: "name"}}}, 0)
			status, body = call(t, w, map[string]string{"id": "1000", "name": "bob"})
			if status != 200 || !strings.Contains(string(body), `"rows_affected":1`) {
				t.Fatalf("insert: %d %s", status, body)
			}
			status, body = call(t, w, map[string]string{"id": "1000", "name": "bob"})
			if status != 409 {
				t.Fatalf("duplicate insert: %d %s", status, body)
			}
			if _, err := Compile(&spec.SQLBackend{DataSource: "crm", SQL: ins,
				Params: []spec.SQLParam{{Name: "id", Type: "integer"}, {Name: "name"}}}, typ); err == nil {
				t.Fatal("an insert without allow_write compiled")
			}
		})
	}
}

// TestTimeoutCancels: a query slower than the route's timeout is answered
// 504 and is no longer running on the server.
func TestTimeoutCancels(t *testing.T) {
	ds := testDB(t, spec.DataSourcePostgres)
	db := seedUsers(t, ds, 1)
	reg := NewRegistry(0)
	defer reg.Close()
	f := newFilter(t, reg, ds, spec.SQLBackend{DataSource: "crm", SQL: "select pg_sleep(:s) as slept",
		Params: []spec.SQLParam{{Name: "s", Type: "number"}}}, 300*time.Millisecond)
	start := time.Now()
	status, body := call(t, f, map[string]string{"s": "10"})
	if status != 504 || time.Since(start) > 3*time.Second {
		t.Fatalf("slow query: %d after %v: %s", status, time.Since(start), body)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		var n int
		err := db.QueryRowContext(context.Background(),
			"select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and query like '%pg_sleep%' and pid <> pg_backend_pid()").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pg_sleep queries still running after the 504", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPoolExhausted: with every connection busy, a request is answered 503
// within 100 ms.
func TestPoolExhausted(t *testing.T) {
	ds := testDB(t, spec.DataSourcePostgres)
	seedUsers(t, ds, 1)
	ds.Pool = &spec.DataSourcePool{MaxOpen: 2}
	reg := NewRegistry(0)
	defer reg.Close()
	f := newFilter(t, reg, ds, spec.SQLBackend{DataSource: "crm", SQL: "select pg_sleep(:s) as slept",
		Params: []spec.SQLParam{{Name: "s", Type: "number"}}}, 5*time.Second)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { call(t, f, map[string]string{"s": "1"}) })
	}
	// A request holds its slot from acquire to the end of its answer, so
	// both slots taken means both sleeping queries own the pool.
	deadline := time.Now().Add(5 * time.Second)
	for len(f.pool.sem) < cap(f.pool.sem) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slots taken 5s after two slow requests started", len(f.pool.sem), cap(f.pool.sem))
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	status, body := call(t, f, map[string]string{"s": "0"})
	took := time.Since(start)
	if status != 503 || took > 100*time.Millisecond {
		t.Fatalf("exhausted pool: %d after %v: %s", status, took, body)
	}
	wg.Wait()
	if status, body := call(t, f, map[string]string{"s": "0"}); status != 200 {
		t.Fatalf("after the pool freed: %d %s", status, body)
	}
}
