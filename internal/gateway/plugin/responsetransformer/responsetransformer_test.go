package responsetransformer

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestNewErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"nothing":   {Config{}, "at least one"},
		"bad name":  {Config{Headers: plugin.HeaderOps{Add: map[string]string{"X:Y": "1"}}}, "headers.add"},
		"bad value": {Config{Headers: plugin.HeaderOps{Set: map[string]string{"X-Y": "a\rb"}}}, "headers.set.X-Y"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestEditsAnswer(t *testing.T) {
	f, err := New(Config{Headers: plugin.HeaderOps{
		Add:    map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
		Set:    map[string]string{"Server": "portico"},
		Remove: []string{"X-Powered-By"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := plugintest.New("192.0.2.1")
	b.RespHeader.Set("Cache-Control", "max-age=60")
	b.RespHeader.Set("Server", "nginx")
	b.RespHeader.Set("X-Powered-By", "PHP")
	f.OnResponse(b.Exchange())
	want := map[string]string{"Cache-Control": "max-age=60", "X-Frame-Options": "DENY", "Server": "portico", "X-Powered-By": ""}
	for k, v := range want {
		if got := b.RespHeader.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
