package feed

import (
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// OpenSecrets opens the sealed secrets of an update — HMAC and JWT
// secrets of consumers, data-source passwords, certificates' private
// keys, service registries' credentials — on their way into a
// gateway's memory: the store assembles snapshots sealed, the feed carries
// and the cache keeps them sealed, and only here are they in clear. A
// secret that does not open (sealed under another key, or keys is nil)
// stays closed: the gateway then refuses that credential like any wrong
// one, a data source without its password fails to connect (502), a
// certificate without its key is not served, and a registry is asked
// without its credentials (and answers so, in its status).
func OpenSecrets(up spec.SnapshotUpdate, keys *credential.Keyring) {
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
	openSources := func(list []spec.DataSource) {
		for i := range list {
			ds := &list[i]
			if ds.Sealed != "" {
				ds.Secret, ds.Sealed = open(ds.Sealed, ds.ID), ""
			}
		}
	}
	if d := up.Delta; d != nil {
		for gi := range d.Groups {
			openSources(d.Groups[gi].DataSources)
		}
	}
	if up.Snapshot == nil {
		return
	}
	for gi := range up.Snapshot.Groups {
		g := &up.Snapshot.Groups[gi]
		for ci := range g.Consumers {
			for k := range g.Consumers[ci].Credentials {
				cc := &g.Consumers[ci].Credentials[k]
				if cc.Sealed != "" {
					cc.Secret, cc.Sealed = open(cc.Sealed, cc.ID), ""
				}
			}
		}
		openSources(g.DataSources)
		for i := range g.Certificates {
			cert := &g.Certificates[i]
			if cert.Sealed != "" {
				cert.Secret, cert.Sealed = open(cert.Sealed, cert.ID), ""
			}
		}
		// A registry's Secret is the JSON of its spec.RegistryCredentials.
		for i := range g.Registries {
			reg := &g.Registries[i]
			if reg.Sealed != "" {
				reg.Secret, reg.Sealed = open(reg.Sealed, reg.ID), ""
			}
		}
	}
}
