package controlplane

import (
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// openDataSourceSecrets opens the sealed passwords of a snapshot's data
// sources for the in-process gateway, like openConsumerSecrets: only on
// their way into the gateway's memory are they in clear. One that does not
// open stays empty; connecting then fails and the route answers 502.
func openDataSourceSecrets(snap *spec.Snapshot, keys *credential.Keyring) {
	for gi := range snap.Groups {
		ds := snap.Groups[gi].DataSources
		for i := range ds {
			if ds[i].Sealed == "" {
				continue
			}
			if secret, err := keys.Open(ds[i].Sealed, ds[i].ID); err == nil {
				ds[i].Secret = secret
			}
			ds[i].Sealed = ""
		}
	}
}
