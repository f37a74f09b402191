package main

import "testing"

// TestWebhookPrivateNetworksFlag: webhooks go to public addresses only
// unless --webhook-private-networks or PORTICO_WEBHOOK_PRIVATE_NETWORKS
// says otherwise.
func TestWebhookPrivateNetworksFlag(t *testing.T) {
	f := serverCmd().Flags()
	if got := f.Lookup("webhook-private-networks").DefValue; got != "false" {
		t.Errorf("--webhook-private-networks defaults to %q, want false", got)
	}
	t.Setenv("PORTICO_WEBHOOK_PRIVATE_NETWORKS", "true")
	if err := applyEnv(f, envPrefix); err != nil {
		t.Fatal(err)
	}
	if got, err := f.GetBool("webhook-private-networks"); err != nil || !got {
		t.Errorf("PORTICO_WEBHOOK_PRIVATE_NETWORKS=true gives %v, %v", got, err)
	}
}
