package requestsizelimit

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name       string
		length     int64
		wantStop   bool
		wantLimit  int64
		wantStatus int
	}{
		{name: "under", length: 10, wantLimit: 100},
		{name: "exactly the limit", length: 100, wantLimit: 100},
		{name: "over", length: 101, wantStop: true, wantStatus: 413},
		{name: "unknown length is bounded while streaming", length: -1, wantLimit: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(Config{MaxBytes: 100})
			if err != nil {
				t.Fatal(err)
			}
			b := plugintest.New("10.0.0.1")
			b.Length = tt.length
			stop := f.OnRequest(b.Exchange())
			if stop != tt.wantStop || b.ErrorStatus != tt.wantStatus || b.BodyLimit != tt.wantLimit {
				t.Errorf("stop=%v status=%d limit=%d, want %v %d %d", stop, b.ErrorStatus, b.BodyLimit, tt.wantStop, tt.wantStatus, tt.wantLimit)
			}
		})
	}
}

func TestNewRefusesNonPositive(t *testing.T) {
	for _, n := range []int64{0, -1} {
		if _, err := New(Config{MaxBytes: n}); err == nil {
			t.Errorf("New(%d) succeeded", n)
		}
	}
}
