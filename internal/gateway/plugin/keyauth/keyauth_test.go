package keyauth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

func hexSum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func index() *consumer.Index {
	return consumer.New([]spec.Consumer{
		{ID: "app-1", Name: "mobile", ProjectID: "p1", Credentials: []spec.ConsumerCredential{
			{ID: "c1", Type: spec.CredKeyAuth, Key: hexSum("good-key")},
			{ID: "c2", Type: spec.CredKeyAuth, Key: hexSum("old-key"), ExpiresAt: time.Now().Add(-time.Second)},
		}},
		{ID: "app-2", Name: "partner", Subscriptions: []string{"s1"}, Credentials: []spec.ConsumerCredential{
			{ID: "c3", Type: spec.CredKeyAuth, Key: hexSum("partner-key")},
		}},
		{ID: "app-3", Name: "stranger", ProjectID: "p2", Credentials: []spec.ConsumerCredential{
			{ID: "c4", Type: spec.CredKeyAuth, Key: hexSum("stranger-key")},
		}},
	})
}

func exchange(b *plugintest.Backing) *plugin.Exchange {
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "default", ProjectID: "p1", ServiceID: "s1"}}, nil)
	return ex
}

func TestKeyAuth(t *testing.T) {
	f, err := New(Config{}, index())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		header   string
		query    string
		status   int
		consumer string
	}{
		{"header", "good-key", "", 0, "app-1"},
		{"query", "", "apikey=good-key&x=1", 0, "app-1"},
		{"subscribed user app", "partner-key", "", 0, "app-2"},
		{"missing", "", "", 401, ""},
		{"unknown", "bad-key", "", 401, ""},
		{"expired", "old-key", "", 401, ""},
		{"another project", "stranger-key", "", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := plugintest.New("127.0.0.1")
			if tc.header != "" {
				b.ReqHeader.Set("apikey", tc.header)
				b.UpstreamHeader.Set("Apikey", tc.header) // what the engine would forward
			}
			if tc.query != "" {
				b.ReqRawQuery = tc.query
				b.ReqQuery["apikey"], _, _ = strings.Cut(strings.TrimPrefix(tc.query, "apikey="), "&")
			}
			ex := exchange(b)
			stop := f.OnRequest(ex)
			if tc.status != 0 {
				if !stop || b.ErrorStatus != tc.status {
					t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
				}
				if strings.Contains(string(b.ErrorBody), "key") {
					t.Errorf("error names the failing part: %s", b.ErrorBody)
				}
				return
			}
			c, ok := ex.Consumer()
			if stop || !ok || c.ApplicationID != tc.consumer || c.CredentialType != "key-auth" {
				t.Fatalf("stop %v consumer %+v %v", stop, c, ok)
			}
			if got := b.UpstreamHeader.Get("X-Consumer-Id"); got != tc.consumer {
				t.Errorf("X-Consumer-Id = %q", got)
			}
			if b.UpstreamHeader.Get("Apikey") != "" {
				t.Errorf("the key goes upstream in a header")
			}
			if q, edited := ex.UpstreamQuery(); tc.query != "" && (!edited || q != "x=1") {
				t.Errorf("upstream query %q (edited %v), want x=1", q, edited)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{Header: "bad header"}, nil); err == nil {
		t.Errorf("a header name with a space accepted")
	}
	if _, err := New(Config{Query: "a=b"}, nil); err == nil {
		t.Errorf("a query name with = accepted")
	}
	f, _ := New(Config{Header: "x-api-key"}, nil)
	if f.header != "X-Api-Key" {
		t.Errorf("header %q not canonical", f.header)
	}
	b := plugintest.New("127.0.0.1")
	b.ReqHeader.Set("X-Api-Key", "good-key")
	if !f.OnRequest(exchange(b)) || b.ErrorStatus != 401 {
		t.Errorf("a nil index admitted a key")
	}
}

func TestWithoutParam(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"apikey=k", ""},
		{"a=1&apikey=k&b=2", "a=1&b=2"},
		{"api%6Bey=k&a=1", "a=1"},
		{"a=1&apikey=1&apikey=2", "a=1"},
		{"apikeyx=1", "apikeyx=1"},
	} {
		if got, _ := WithoutParam(tc.raw, "apikey"); got != tc.want {
			t.Errorf("WithoutParam(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func BenchmarkKeyAuth(b *testing.B) {
	f, _ := New(Config{}, index())
	bk := plugintest.New("127.0.0.1")
	bk.ReqHeader.Set("Apikey", "good-key")
	ex := exchange(bk)
	b.ReportAllocs()
	for b.Loop() {
		ex.Reset(bk, "req-1", ex.Route(), nil)
		if f.OnRequest(ex) {
			b.Fatal("refused")
		}
	}
}
