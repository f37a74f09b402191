package mock

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"status too low", Config{Status: 101}, "status"},
		{"status too high", Config{Status: 600}, "status"},
		{"bad header name", Config{Headers: map[string]string{"X Y": "1"}}, "headers"},
		{"header injection", Config{Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}, "headers.X-A"},
		{"gateway header", Config{Headers: map[string]string{"content-length": "3"}}, "headers.content-length"},
		{"body on 204", Config{Status: 204, Body: json.RawMessage(`"x"`)}, "body"},
		{"body too large", Config{Body: json.RawMessage(`"` + strings.Repeat("x", maxBody+1) + `"`)}, "body"},
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

func TestAnswers(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantStatus int
		wantType   string
		wantBody   string
		wantHeader map[string]string
	}{
		{"defaults", Config{}, 200, "", "", nil},
		{"json value", Config{Body: json.RawMessage(`{"id": 1}`)}, 200, "application/json", `{"id": 1}`, nil},
		{"json in a string", Config{Body: json.RawMessage(`"[1,2]"`)}, 200, "application/json", `[1,2]`, nil},
		{"text", Config{Status: 201, Body: json.RawMessage(`"created"`)}, 201, "text/plain; charset=utf-8", "created", nil},
		{"own type and headers", Config{Status: 503, Body: json.RawMessage(`"<x/>"`),
			Headers: map[string]string{"content-type": "application/xml", "x-mock": "yes"}},
			503, "application/xml", "<x/>", map[string]string{"X-Mock": "yes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := plugintest.New("192.0.2.1")
			if !f.OnRequest(b.Exchange()) {
				t.Fatal("mock let the request go upstream")
			}
			if b.Responses != 1 || b.Status != tc.wantStatus || string(b.RespBody) != tc.wantBody {
				t.Errorf("answered %d× %d %q, want once %d %q", b.Responses, b.Status, b.RespBody, tc.wantStatus, tc.wantBody)
			}
			if got := b.RespHeader.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			for k, v := range tc.wantHeader {
				if got := b.RespHeader.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
