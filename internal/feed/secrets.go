package feed

import (
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// OpenSecrets opens the sealed secrets of a snapshot — HMAC and JWT
// secrets of consumers, data-source passwords — on their way into a
// gateway's memory: the store assembles snapshots sealed, the feed carries
// and the cache keeps them sealed, and only here are they in clear. A
// secret that does not open (sealed under another key, or keys is nil)
// stays closed: the gateway then refuses that credential like any wrong
// one, and a data source without its password fails to connect (502).
func OpenSecrets(snap *spec.Snapshot, keys *credential.Keyring) {
	open := func(sealed, aad string) string {
		if sealed == "" || keys == nil {
			return ""
		}
		secret, err := keys.Open(sealed, aad)
		if err != nil {
			return ""
		}
		return secret
	}
	for gi := range snap.Groups {
		g := &snap.Groups[gi]
		for ci := range g.Consumers {
			for k := range g.Consumers[ci].Credentials {
				cc := &g.Consumers[ci].Credentials[k]
				if cc.Sealed != "" {
					cc.Secret, cc.Sealed = open(cc.Sealed, cc.ID), ""
				}
			}
		}
		for i := range g.DataSources {
			ds := &g.DataSources[i]
			if ds.Sealed != "" {
				ds.Secret, ds.Sealed = open(ds.Sealed, ds.ID), ""
			}
		}
	}
}
