package controlplane

import (
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// openConsumerSecrets opens the sealed HMAC and JWT secrets of a snapshot
// for the in-process gateway: the store assembles them sealed, and only
// here, on their way into the gateway's memory, are they in clear. A
// secret that does not open (sealed under another key) stays closed; the
// gateway then cannot verify that credential and refuses it, like any
// wrong credential.
func openConsumerSecrets(snap *spec.Snapshot, keys *credential.Keyring) {
	for gi := range snap.Groups {
		cs := snap.Groups[gi].Consumers
		for ci := range cs {
			for k := range cs[ci].Credentials {
				cc := &cs[ci].Credentials[k]
				if cc.Sealed == "" {
					continue
				}
				if secret, err := keys.Open(cc.Sealed, cc.ID); err == nil {
					cc.Secret = secret
				}
				cc.Sealed = ""
			}
		}
	}
}
