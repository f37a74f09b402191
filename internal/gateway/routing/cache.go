package routing

import (
	"encoding/json"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/proxycache"
	"github.com/portico-gw/portico/internal/spec"
)

// proxyCache builds the proxy-cache plugin on the gateway's stores
// (deps.Cache), with the purges of the service being compiled.
func proxyCache(raw json.RawMessage, deps Deps, scope string) (plugin.Filters, error) {
	var cfg proxycache.Config
	if err := decodeStrict(raw, &cfg); err != nil {
		return plugin.Filters{}, err
	}
	return filters(proxycache.New(cfg, deps.Cache, scope, deps.cachePurges))
}

// cachePurges converts a deployment's purges for the plugin.
func cachePurges(c *spec.CachePurges) proxycache.Purges {
	if c == nil {
		return proxycache.Purges{}
	}
	p := proxycache.Purges{Epoch: c.Epoch, Keys: make([]proxycache.PurgedKey, len(c.Keys))}
	for i, k := range c.Keys {
		p.Keys[i] = proxycache.PurgedKey{Key: k.Key, At: k.At.UnixMilli()}
	}
	return p
}
