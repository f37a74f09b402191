package main

import "testing"

// TestAuditRetentionFlag: the audit log is kept forever unless
// --audit-retention or PORTICO_AUDIT_RETENTION says otherwise.
func TestAuditRetentionFlag(t *testing.T) {
	f := serverCmd().Flags()
	if got := f.Lookup("audit-retention").DefValue; got != "0s" {
		t.Errorf("--audit-retention defaults to %q, want 0s (keep forever)", got)
	}
	t.Setenv("PORTICO_AUDIT_RETENTION", "9600h")
	if err := applyEnv(f, envPrefix); err != nil {
		t.Fatal(err)
	}
	if got, err := f.GetDuration("audit-retention"); err != nil || got.Hours() != 9600 {
		t.Errorf("PORTICO_AUDIT_RETENTION=9600h gives %v, %v", got, err)
	}
}
