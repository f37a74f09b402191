package cors

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func intp(i int) *int { return &i }

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"credentials with any origin", Config{AllowCredentials: true}, "allow_credentials"},
		{"star beside origins", Config{AllowOrigins: []string{"*", "https://a.example"}}, "allow_origins"},
		{"origin with path", Config{AllowOrigins: []string{"https://a.example/x"}}, "allow_origins[0]"},
		{"origin without scheme", Config{AllowOrigins: []string{"a.example"}}, "allow_origins[0]"},
		{"bad method", Config{AllowMethods: []string{"GET POST"}}, "allow_methods[0]"},
		{"bad header", Config{AllowHeaders: []string{"X:1"}}, "allow_headers[0]"},
		{"bad expose", Config{ExposeHeaders: []string{""}}, "expose_headers[0]"},
		{"max age", Config{MaxAge: intp(86401)}, "max_age"},
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

func TestRequests(t *testing.T) {
	listed := Config{AllowOrigins: []string{"https://app.example"}, AllowCredentials: true,
		ExposeHeaders: []string{"X-Total"}, AllowHeaders: []string{"Authorization", "Content-Type"}, MaxAge: intp(600)}
	tests := []struct {
		name       string
		cfg        Config
		method     string
		header     map[string]string
		wantStop   bool
		wantStatus int               // of the plugin's own answer
		want       map[string]string // response headers; "" : absent
	}{
		{name: "not cross-origin", cfg: Config{}, method: "GET",
			want: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "any origin", cfg: Config{}, method: "GET", header: map[string]string{"Origin": "https://x.example"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
		{name: "listed origin", cfg: listed, method: "POST", header: map[string]string{"Origin": "https://app.example"},
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "X-Total"}},
		{name: "listed origin other case", cfg: listed, method: "GET", header: map[string]string{"Origin": "HTTPS://APP.example"},
			want: map[string]string{"Access-Control-Allow-Origin": "HTTPS://APP.example"}},
		{name: "unlisted origin passes unmarked", cfg: listed, method: "GET", header: map[string]string{"Origin": "https://evil.example"},
			want: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "preflight answered", cfg: listed, method: "OPTIONS",
			header:   map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"},
			wantStop: true, wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
				"Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "600", "Vary": "Origin"}},
		{name: "preflight echoes asked headers", cfg: Config{}, method: "OPTIONS",
			header:   map[string]string{"Origin": "https://x.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-a, x-b"},
			wantStop: true, wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Headers": "x-a, x-b", "Access-Control-Max-Age": "5", "Vary": ""}},
		{name: "preflight of unlisted origin refused", cfg: listed, method: "OPTIONS",
			header:   map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
			wantStop: true, wantStatus: 403},
		{name: "plain OPTIONS goes upstream", cfg: Config{}, method: "OPTIONS", header: map[string]string{"Origin": "https://x.example"},
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := plugintest.New("192.0.2.1")
			b.ReqMethod = tc.method
			for k, v := range tc.header {
				b.ReqHeader.Set(k, v)
			}
			stop := f.OnRequest(b.Exchange())
			if stop != tc.wantStop {
				t.Fatalf("stop %v, want %v", stop, tc.wantStop)
			}
			if tc.wantStatus == 403 && b.ErrorStatus != 403 {
				t.Errorf("status %d, want 403", b.ErrorStatus)
			}
			if tc.wantStatus == 204 && (b.Responses != 1 || b.Status != 204) {
				t.Errorf("answered %d× with %d, want one 204", b.Responses, b.Status)
			}
			for k, v := range tc.want {
				if got := b.RespHeader.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestVaryOnAnswer(t *testing.T) {
	f, err := New(Config{AllowOrigins: []string{"https://app.example"}})
	if err != nil {
		t.Fatal(err)
	}
	for backend, want := range map[string]string{"": "Origin", "Accept-Encoding": "Accept-Encoding, Origin", "origin": "origin", "*": "*"} {
		b := plugintest.New("192.0.2.1")
		b.ReqHeader.Set("Origin", "https://app.example")
		if backend != "" {
			b.RespHeader.Set("Vary", backend)
		}
		f.OnResponse(b.Exchange())
		if got := b.RespHeader.Get("Vary"); got != want {
			t.Errorf("backend Vary %q → %q, want %q", backend, got, want)
		}
	}
}
