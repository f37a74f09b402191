package requestvalidation

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// benchBody is a valid order of about 1 KiB, what the bench's
// request-validation row posts.
func benchBody() string {
	var items []string
	for i := 0; ; i++ {
		b := `{"note":"by the door","user":{"name":"Ada Lovelace","age":36},"items":[` + strings.Join(items, ",") + `]}`
		if len(b) >= 1000 {
			return b
		}
		items = append(items, `{"sku":"SKU-0000`+string(rune('0'+i%10))+`","qty":2}`)
	}
}

// BenchmarkValidate is one request through the compiled filter: a query
// parameter, a header and a JSON body of about 1 KiB.
func BenchmarkValidate(b *testing.B) {
	f := build(b, `{}`, testDoc(b, testOperation, testComponents)).Request
	body := benchBody()
	b.Logf("body: %d bytes", len(body))
	bk := &bodyBacking{Backing: plugintest.New("192.0.2.1"), body: []byte(body)}
	bk.ReqMethod, bk.ReqPath, bk.ReqRawQuery, bk.Length = "POST", "/orders/7", "limit=10", int64(len(body))
	bk.ReqHeader.Set("Content-Type", "application/json")
	bk.ReqHeader.Set("Cookie", "session=abcdef")
	ex := &plugin.Exchange{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ex.Reset(bk, "req-1", nil, nil)
		if f.OnRequest(ex) {
			b.Fatalf("refused: %s", bk.ErrorBody)
		}
	}
}

// BenchmarkParameters is a request whose operation declares parameters
// only: what a GET with a validated query costs.
func BenchmarkParameters(b *testing.B) {
	op := `{"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
		{"name": "q", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 50}}]}`
	f := build(b, `{}`, testDoc(b, op, `{}`)).Request
	bk := plugintest.New("192.0.2.1")
	bk.ReqRawQuery = "q=portico&limit=10"
	ex := &plugin.Exchange{}
	b.ReportAllocs()
	for b.Loop() {
		ex.Reset(bk, "req-1", nil, nil)
		if f.OnRequest(ex) {
			b.Fatalf("refused: %s", bk.ErrorBody)
		}
	}
}
