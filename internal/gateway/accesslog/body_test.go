package accesslog

import (
	"strings"
	"testing"
)

func TestBodyPolicyAppend(t *testing.T) {
	mask := []string{"password", "Card"}
	for _, tc := range []struct {
		name        string
		max         int
		mask        []string
		contentType string
		body        string
		want        string
	}{
		{"text kept", 0, nil, "text/plain", "hello", "hello"},
		{"text cut at the cap", 5, nil, "text/plain", "hello world", "hello" + Truncated},
		{"cut does not split a character", 5, nil, "text/plain", "abcd€f", "abcd" + Truncated},
		{"binary", 0, nil, "application/octet-stream", "\x00\xff\xfe", "(binary, 3 bytes)"},
		{"binary past the cap", 2, nil, "", "\xff\xff\xff\xff", "(binary, 4 bytes)"},
		{"empty", 0, mask, "application/json", "", ""},
		{"json without a mask list is text", 0, nil, "application/json", `{"password": "x"}`, `{"password": "x"}`},
		{"json masked and compacted", 0, mask, "application/json",
			`{ "user": "bob", "password": "hunter2", "n": 1.50e3, "ok": true, "none": null }`,
			`{"user":"bob","password":"***","n":1.50e3,"ok":true,"none":null}`},
		{"nested objects and arrays", 0, mask, "application/json; charset=utf-8",
			`{"a":[1,{"card":{"number":"4111","cvc":"123"}},[{"PASSWORD":["x","y"]}]],"b":{"c":{"password":7}},"d":[]}`,
			`{"a":[1,{"card":"***"},[{"PASSWORD":"***"}]],"b":{"c":{"password":"***"}},"d":[]}`},
		{"problem+json counts as json", 0, mask, "Application/Problem+JSON", `{"password":"x"}`, `{"password":"***"}`},
		{"top-level array", 0, mask, "application/json", `[{"password":"x"},{"card":1}]`, `[{"password":"***"},{"card":"***"}]`},
		{"a stream of values", 0, mask, "application/x-ndjson", "{\"password\":1}\n{\"a\":2}\n", "{\"password\":\"***\"}\n{\"a\":2}"},
		{"strings re-escaped", 0, mask, "application/json", `{"s":"a\"b\\c\n\u00e9"}`, `{"s":"a\"b\\c\né"}`},
		{"masked value cut by the capture", 0, mask, "application/json", `{"user":"bob","password":"hun`, `{"user":"bob","password":"***"` + Truncated},
		{"masked key cut by the capture", 0, mask, "application/json", `{"user":"bob","passw`, `{"user":"bob"` + Truncated},
		{"masked object cut by the capture", 0, mask, "application/json", `{"card":{"number":"4111`, `{"card":"***"` + Truncated},
		{"output cut at the cap", 12, mask, "application/json", `{"a":"0123456789","password":"secret"}`, `{"a":"012345` + Truncated},
		{"cap right after a masked value", 17, mask, "application/json", `{"password":"secret","b":"zzzz"}`, `{"password":"***"` + Truncated},
		{"not json at all", 0, mask, "application/json", `hello`, Truncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &BodyPolicy{MaxBytes: tc.max, Mask: tc.mask}
			if got := string(p.Append(nil, []byte(tc.body), tc.contentType)); got != tc.want {
				t.Errorf("Append(%q)\n got %s\nwant %s", tc.body, got, tc.want)
			}
			if got := string(p.Append([]byte("pre|"), []byte(tc.body), tc.contentType)); got != "pre|"+tc.want {
				t.Errorf("Append after a prefix = %s", got)
			}
		})
	}
}

// TestBodyPolicyNeverLeaksMaskedValue cuts a JSON body at every length,
// and caps the output at every size: no part of the masked values ever
// appears.
func TestBodyPolicyNeverLeaksMaskedValue(t *testing.T) {
	body := `{"user":"bob","items":[{"id":1,"card":{"number":"Z41","exp":"Z12"}}],"deep":{"password":"Z9pass","n":[1,2]},"password":["Zs1","Zs2"],"tail":"end"}`
	for cut := 0; cut <= len(body); cut++ {
		for _, max := range []int{1, 8, 20, 45, 4096} {
			p := &BodyPolicy{MaxBytes: max, Mask: []string{"card", "password"}}
			out := string(p.Append(nil, []byte(body[:cut]), "application/json"))
			if strings.Contains(out, "Z") {
				t.Fatalf("cut at %d, cap %d: masked value leaked: %s", cut, max, out)
			}
			if n := len(strings.TrimSuffix(out, Truncated)); n > max {
				t.Fatalf("cut at %d, cap %d: %d bytes kept", cut, max, n)
			}
			if cut == len(body) && max == 4096 && strings.HasSuffix(out, Truncated) {
				t.Fatalf("the whole body is marked truncated: %s", out)
			}
		}
	}
}
