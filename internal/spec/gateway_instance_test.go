package spec

import (
	"testing"
	"time"
)

func TestInstanceState(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := GatewayInstance{Interval: 10 * time.Second, Revision: 5}
	for _, c := range []struct {
		quiet time.Duration
		rev   int64
		want  string
	}{
		{time.Second, 5, InstanceHealthy},
		{time.Second, 6, InstanceLagging},
		{29 * time.Second, 5, InstanceHealthy},
		{31 * time.Second, 5, InstanceLost},
		{11 * time.Minute, 5, InstanceOffline},
	} {
		in.LastSeen = now.Add(-c.quiet)
		if got := InstanceState(in, c.rev, now, 10*time.Minute); got != c.want {
			t.Errorf("quiet %v, group at %d: %s, want %s", c.quiet, c.rev, got, c.want)
		}
	}
}
