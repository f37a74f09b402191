package plugin_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestReject(t *testing.T) {
	tests := []struct {
		name, code, message string
	}{
		{name: "plain", code: "forbidden", message: "client address not allowed"},
		{name: "needs escaping", code: "x", message: "quote \" backslash \\ newline \n tab \t <b>&"},
		{name: "unicode", code: "x", message: "路由不存在 \u2028"},
		{name: "invalid utf8", code: "x", message: "bad \xff byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := plugintest.New("10.0.0.1")
			ex := b.Exchange()
			ex.Reject(403, tt.code, tt.message)
			ex.Reject(500, "second", "ignored")
			if b.Errors != 1 || b.ErrorStatus != 403 {
				t.Fatalf("WriteError called %d times, last status %d; want once with 403", b.Errors, b.ErrorStatus)
			}
			var got struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(b.ErrorBody, &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", b.ErrorBody, err)
			}
			want := tt.message
			if tt.name == "invalid utf8" {
				want = "bad \ufffd byte"
			}
			if diff := cmp.Diff([]string{tt.code, want, "req-1"}, []string{got.Error.Code, got.Error.Message, got.RequestID}); diff != "" {
				t.Errorf("decoded body (-want +got):\n%s", diff)
			}
			if rejected, status := ex.Rejected(); !rejected || status != 403 {
				t.Errorf("Rejected() = %v, %d", rejected, status)
			}
		})
	}
}

func TestResetForgetsRequest(t *testing.T) {
	b := plugintest.New("10.0.0.1")
	ex := b.Exchange()
	ex.SetUpstreamPath("/x")
	ex.SetConsumer(plugin.Consumer{Name: "app"})
	ex.Reject(401, "a", "b")
	ex.Reset(b, "req-2", nil, nil)
	if rejected, _ := ex.Rejected(); rejected || ex.UpstreamPath() != "" || ex.RequestID() != "req-2" {
		t.Errorf("Reset kept state: rejected=%v path=%q id=%q", rejected, ex.UpstreamPath(), ex.RequestID())
	}
	if _, ok := ex.Consumer(); ok {
		t.Error("Reset kept the consumer")
	}
}
