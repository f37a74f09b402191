package spec

import (
	"strings"
	"testing"
	"time"
)

func TestInstanceState(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := GatewayInstance{Interval: 10 * time.Second, Revision: 5}
	for _, c := range []struct {
		quiet   time.Duration
		rev     int64
		revoked bool
		want    string
	}{
		{time.Second, 5, false, InstanceHealthy},
		{time.Second, 6, false, InstanceLagging},
		{29 * time.Second, 5, false, InstanceHealthy},
		{31 * time.Second, 5, false, InstanceLost},
		{11 * time.Minute, 5, false, InstanceOffline},
		{time.Second, 5, true, InstanceRefused},
		{31 * time.Second, 6, true, InstanceRefused},
		{11 * time.Minute, 5, true, InstanceOffline},
	} {
		in.LastSeen = now.Add(-c.quiet)
		if got := InstanceState(in, c.rev, now, 10*time.Minute, !c.revoked); got != c.want {
			t.Errorf("quiet %v, group at %d, token revoked %v: %s, want %s", c.quiet, c.rev, c.revoked, got, c.want)
		}
	}
	in.LastSeen, in.Stopped = now, true
	if got := InstanceState(in, 5, now, 10*time.Minute, true); got != InstanceOffline {
		t.Errorf("an instance that said goodbye a second ago: %s, want offline", got)
	}
}

// TestCredentialExpiryBounded: an expiry Unix nanoseconds cannot hold is
// refused, not stored wrapped into the past.
func TestCredentialExpiryBounded(t *testing.T) {
	c := Credential{Type: CredKeyAuth, ExpiresAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "expires_at") {
		t.Errorf("Validate of a 2300 expiry: %v, want an expires_at error", err)
	}
	if !ValidStoredTime(time.Time{}) || !ValidStoredTime(time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC)) || ValidStoredTime(time.Date(2262, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("ValidStoredTime bounds")
	}
}
