package controlplane

import "testing"

func TestLoopbackOnly(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{DefaultAdminAddr, true},
		{DefaultStatusAddr, true},
		{"localhost:1", true},
		{"[::1]:9180", true},
		{"127.0.0.2:9180", true},
		{":9180", false},
		{"0.0.0.0:9180", false},
		{"[::]:9180", false},
		{"10.0.0.5:9180", false},
		{"admin.example:9180", false},
		{"nonsense", false},
	} {
		if got := loopbackOnly(tt.addr); got != tt.want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestDefaultsBindLoopback(t *testing.T) {
	var o Options
	o.defaults()
	if o.AdminAddr != "127.0.0.1:9180" || o.StatusAddr != "127.0.0.1:9091" || o.GatewayAddr != ":9080" {
		t.Fatalf("defaults: admin %q status %q gateway %q", o.AdminAddr, o.StatusAddr, o.GatewayAddr)
	}
}
