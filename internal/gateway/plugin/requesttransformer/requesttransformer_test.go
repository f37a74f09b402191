package requesttransformer

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "at least one"},
		{"empty rename", Config{Query: QueryOps{Rename: map[string]string{"a": ""}}}, "query.rename"},
		{"empty remove", Config{Query: QueryOps{Remove: []string{""}}}, "query.remove[0]"},
		{"bad header", Config{Headers: plugin.HeaderOps{Remove: []string{"a b"}}}, "headers.remove[0]"},
		{"framing header", Config{Headers: plugin.HeaderOps{Set: map[string]string{"Transfer-Encoding": "x"}}}, "Transfer-Encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name string
		ops  QueryOps
		raw  string
		want string // "-": unchanged (no SetUpstreamQuery)
	}{
		{name: "rename", ops: QueryOps{Rename: map[string]string{"q": "search"}}, raw: "q=go&page=2", want: "search=go&page=2"},
		{name: "rename keeps repeats and escapes", ops: QueryOps{Rename: map[string]string{"id": "ids"}}, raw: "id=1&id=2%2C3", want: "ids=1&ids=2%2C3"},
		{name: "rename escaped name", ops: QueryOps{Rename: map[string]string{"a b": "ab"}}, raw: "a%20b=1", want: "ab=1"},
		{name: "nothing to rename", ops: QueryOps{Rename: map[string]string{"x": "y"}}, raw: "q=1", want: "-"},
		{name: "empty query", ops: QueryOps{Rename: map[string]string{"x": "y"}}, raw: "", want: "-"},
		{name: "remove", ops: QueryOps{Remove: []string{"debug"}}, raw: "debug=1&a=2&debug", want: "a=2"},
		{name: "set replaces", ops: QueryOps{Set: map[string]string{"v": "2 beta"}}, raw: "v=1&a=1", want: "a=1&v=2+beta"},
		{name: "add only when absent", ops: QueryOps{Add: map[string]string{"lang": "en", "a": "x"}}, raw: "a=1", want: "a=1&lang=en"},
		{name: "value-less kept", ops: QueryOps{Rename: map[string]string{"a": "b"}}, raw: "a&c", want: "b&c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(Config{Query: tc.ops})
			if err != nil {
				t.Fatal(err)
			}
			b := plugintest.New("192.0.2.1")
			b.ReqRawQuery = tc.raw
			ex := b.Exchange()
			f.OnRequest(ex)
			got, ok := ex.UpstreamQuery()
			if !ok {
				got = "-"
			}
			if got != tc.want {
				t.Errorf("query %q → %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	f, err := New(Config{Headers: plugin.HeaderOps{
		Add: map[string]string{"X-Add": "a", "X-Present": "new"}, Set: map[string]string{"X-Set": "s"}, Remove: []string{"X-Gone"}}})
	if err != nil {
		t.Fatal(err)
	}
	b := plugintest.New("192.0.2.1")
	for _, h := range []string{"X-Present", "X-Gone", "X-Set"} {
		b.ReqHeader.Set(h, "old")
		b.UpstreamHeader.Set(h, "old")
	}
	f.OnRequest(b.Exchange())
	want := map[string]string{"X-Add": "a", "X-Present": "old", "X-Set": "s", "X-Gone": ""}
	for k, v := range want {
		if got := b.UpstreamHeader.Get(k); got != v {
			t.Errorf("upstream %s = %q, want %q", k, got, v)
		}
	}
}

func BenchmarkRename(b *testing.B) {
	f, err := New(Config{Query: QueryOps{Rename: map[string]string{"q": "search"}}})
	if err != nil {
		b.Fatal(err)
	}
	bk := plugintest.New("192.0.2.1")
	bk.ReqRawQuery = "q=go&page=2&size=20"
	ex := bk.Exchange()
	b.ReportAllocs()
	for b.Loop() {
		f.OnRequest(ex)
	}
}

// TestQueryKeepsEarlierEdits: the transformer starts from the query an
// earlier filter (a route's parameter mapping) already edited, not from
// the client's.
func TestQueryKeepsEarlierEdits(t *testing.T) {
	f, err := New(Config{Query: QueryOps{Set: map[string]string{"lang": "en"}}})
	if err != nil {
		t.Fatal(err)
	}
	b := plugintest.New("192.0.2.1")
	b.ReqRawQuery = "uid=7"
	ex := b.Exchange()
	ex.SetUpstreamQuery("item=42") // what the mapping made of it
	f.OnRequest(ex)
	if got, _ := ex.UpstreamQuery(); got != "item=42&lang=en" {
		t.Errorf("query = %q, want the mapping's edit with lang added", got)
	}
}
