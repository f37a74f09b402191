package compose

import (
	"context"
	"testing"
)

// TestExpressions checks that the meter's rewriting (+, predicates, the
// functions it replaces) keeps expr's meaning.
func TestExpressions(t *testing.T) {
	in := &Input{Body: []byte(`{"xs":[{"n":3,"k":"b"},{"n":1,"k":"a"},{"n":2,"k":"a"}],"s":"a,b,c"}`)}
	tests := []struct{ expr, want string }{
		{`1 + 2 * 3`, `7`},
		{`1.5 + 1`, `2.5`},
		{`"a" + "b" + string(1)`, `"ab1"`},
		{`map(request.body.xs, .n + 1)`, `[4,2,3]`},
		{`filter(request.body.xs, .n > 1) | map(.k)`, `["b","a"]`},
		{`sortBy(request.body.xs, .n) | map(.n)`, `[1,2,3]`},
		{`reduce(request.body.xs, #acc + .n, 0)`, `6`},
		{`count(request.body.xs, .k == "a")`, `2`},
		{`all(request.body.xs, .n > 0) && any(request.body.xs, .n == 2) && !none(request.body.xs, .n == 2)`, `true`},
		{`find(request.body.xs, .n == 2).k`, `"a"`},
		{`keys(groupBy(request.body.xs, .k)) | sort()`, `["a","b"]`},
		{`join(split(request.body.s, ","), "-")`, `"a-b-c"`},
		{`splitAfter(request.body.s, ",", 2)`, `["a,","b,c"]`},
		{`replace(request.body.s, ",", ";")`, `"a;b;c"`},
		{`replace(request.body.s, ",", ";", 1)`, `"a;b,c"`},
		{`repeat("ab", 3)`, `"ababab"`},
		{`toJSON({"a": [1, "x"]})`, `"{\"a\":[1,\"x\"]}"`},
		{`fromJSON("[1, 2]")`, `[1,2]`},
		{`concat([1], [2, 3])`, `[1,2,3]`},
		{`flatten([[1, [2]], 3])`, `[1,2,3]`},
		{`merge({"a": 1}, {"b": 2})`, `{"a":1,"b":2}`},
		{`request.body.missing?.x ?? "d"`, `"d"`},
		{`upper(trim("  a "))`, `"A"`},
		{`let x = 2; x + x`, `4`},
		{`len(request.body.xs) > 2 ? "many" : "few"`, `"many"`},
		{`string(2.5) + string(true) + string(nil)`, `"2.5true\u003cnil\u003e"`},
		{`int("12") + 1`, `13`},
		{`1..3 | map(# * 2)`, `[2,4,6]`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			f := mustCompile(t, `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":`+quote(tt.expr)+`}}`)
			res := f.Run(context.Background(), in, &fakeCaller{handle: byStep(nil)})
			if res.Code != "" {
				t.Fatalf("%s: %s", res.Code, res.Message)
			}
			if string(res.Body) != tt.want {
				t.Errorf("got %s, want %s", res.Body, tt.want)
			}
		})
	}
}
