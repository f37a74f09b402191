// Package registries builds the discovery.Resolver a registry connection
// names. It lives apart from package discovery because it imports every
// registry client and they import discovery; an explicit switch rather
// than clients registering themselves at init keeps the list of registries
// in one place, and a binary without this package carries none of them.
package registries

import (
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/consul"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/dns"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/eureka"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/kubernetes"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/nacos"
)

// Types are the registry types New knows, in the order the documentation
// lists them.
var Types = []string{"dns", "consul", "kubernetes", "nacos", "eureka"}

// New checks c and builds the Resolver of its Type. An unknown type, an
// Address that is not http(s) for an HTTP registry (or not ip:port for
// dns), or a CA that does not parse is an error.
func New(c discovery.Config) (discovery.Resolver, error) {
	switch c.Type {
	case "dns":
		return dns.New(c)
	case "consul":
		return consul.New(c)
	case "kubernetes":
		return kubernetes.New(c)
	case "nacos":
		return nacos.New(c)
	case "eureka":
		return eureka.New(c)
	}
	return nil, fmt.Errorf("discovery: unknown registry type %q (want one of %v)", c.Type, Types)
}
