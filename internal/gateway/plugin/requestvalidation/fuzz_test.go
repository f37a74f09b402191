package requestvalidation

import (
	"encoding/json"
	"testing"
)

// FuzzRequest feeds hostile queries, headers and bodies to a compiled
// route: nothing panics, and every answer is a well-formed gateway error.
func FuzzRequest(f *testing.F) {
	doc := testDoc(f, testOperation, testComponents)
	filter := build(f, `{"max_body_bytes": 4096}`, doc).Request
	f.Add("limit=10&tags=a", "7", "2", "application/json", validBody)
	f.Add("limit=%zz&ids=1,,2&filter=%7B", "x", "", "application/json; charset=\xff", `{"user":{"name":[[[[[]]]]]}}`)
	f.Add("tags=%00&tags=b&li%6dit=1e400", "9999999999999999999999", "0x10", "text/*", `{"items":[{"sku":"\ud800"}]}`)
	f.Add("&&=&a==b&filter=null", "-0", "NaN", "", `null`)
	f.Add("limit=1&limit=2", "7", "1", "application/vnd.x+json", `{"user":{"name":"a"},"items":[],"note":1e999}`)
	f.Fuzz(func(t *testing.T, query, id, version, contentType, body string) {
		if id == "" || containsSlash(id) {
			id = "7"
		}
		req := request{id: id, query: query, header: map[string]string{"X-Version": version}, contentType: contentType, body: body}
		if contentType == "" {
			req.contentType = "-"
		}
		b, stop := req.run(filter)
		if !stop {
			return
		}
		var a answer
		if err := json.Unmarshal(b.ErrorBody, &a); err != nil || a.Error.Code == "" {
			t.Fatalf("answer %q: %v", b.ErrorBody, err)
		}
		if len(a.Error.Fields) > maxFields {
			t.Fatalf("%d fields listed", len(a.Error.Fields))
		}
	})
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == '?' || s[i] == '%' || s[i] < 0x21 || s[i] >= 0x7f {
			return true
		}
	}
	return false
}
