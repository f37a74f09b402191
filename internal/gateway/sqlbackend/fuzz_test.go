package sqlbackend

import (
	"context"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// FuzzBind feeds hostile parameter values (quotes, comments, "; drop
// table", unicode, huge strings) to a wizard and a script route on a real
// PostgreSQL: the statement text never changes, every answer is 200 or a
// 400 naming a parameter, and the table survives with all its rows.
func FuzzBind(f *testing.F) {
	for _, s := range []string{
		"alice", "' OR '1'='1", "'; DROP TABLE users; --", `" OR ""="`, "1; delete from users",
		"/* */ union select * from pg_user --", "\\'; drop table users; --", "%' --", "$1", ":name", "?",
		"ñ 名前 🙂", "\x00", "\xff\xfe", strings.Repeat("A", 70000), "1,2,3", "-1 OR 1=1", "1e309", "NaN",
	} {
		f.Add(s, "7")
	}
	ds := testDB(f, spec.DataSourcePostgres)
	db := seedUsers(f, ds, 20)
	reg := NewRegistry(0)
	f.Cleanup(reg.Close)
	wiz := newFilter(f, reg, ds, wizard(), 0)
	script := newFilter(f, reg, ds, spec.SQLBackend{DataSource: "crm",
		SQL:    "select id, name from users where name = :name or note = :name or id = :id",
		Params: []spec.SQLParam{{Name: "name"}, {Name: "id", Type: "integer"}}}, 0)
	texts := []string{wiz.st.Query, wiz.st.CountQuery, script.st.Query, script.st.CountQuery}

	f.Fuzz(func(t *testing.T, v, n string) {
		for _, q := range []map[string]string{
			{"name": v, "like": v, "ids": v, "min_age": n, "total": "true"},
			{"name": v, "id": n, "total": "true"},
			{"page": v, "page_size": n, "name": v},
		} {
			for _, fl := range []*Filter{wiz, script} {
				status, body := call(t, fl, q)
				if status != 200 && !(status == 400 && strings.Contains(string(body), `"bad_parameter"`)) {
					t.Fatalf("%q: %d %s", q, status, body)
				}
			}
		}
		for i, s := range []string{wiz.st.Query, wiz.st.CountQuery, script.st.Query, script.st.CountQuery} {
			if s != texts[i] {
				t.Fatalf("statement %d changed: %q", i, s)
			}
		}
		var rows int
		if err := db.QueryRowContext(context.Background(), "select count(*) from users").Scan(&rows); err != nil || rows != 20 {
			t.Fatalf("the table did not survive: %d rows, %v", rows, err)
		}
	})
}
