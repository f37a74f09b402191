package routing

import (
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// Discoverer gives the node list a discovered upstream follows: the
// gateway keeps one follower per registry and service, shared by every
// pool that names them, for as long as one does.
type Discoverer interface {
	Found(group string, reg *spec.Registry, d spec.Discovery) *upstream.Found
}

func registryIndex(rs []spec.Registry) map[string]*spec.Registry {
	if len(rs) == 0 {
		return nil
	}
	m := make(map[string]*spec.Registry, len(rs))
	for i := range rs {
		m[rs[i].Name] = &rs[i]
	}
	return m
}

// found is the node list of u when it is discovered (nil otherwise, and
// while validating); a registry the group does not have is a problem at
// field (nil fe: reported elsewhere).
func (d Deps) found(fe *spec.FieldErrors, field, group string, u *spec.Upstream) *upstream.Found {
	if u.Discovery == nil {
		return nil
	}
	reg, ok := d.registries[u.Discovery.Registry]
	if !ok {
		if fe != nil {
			fe.Add(field+".discovery.registry", "the gateway group %s has no registry named %q", group, u.Discovery.Registry)
		}
		return nil
	}
	if d.Discovery == nil {
		return nil
	}
	return d.Discovery.Found(group, reg, *u.Discovery)
}
