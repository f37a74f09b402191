package routing

import (
	"encoding/json"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// authn adapts the constructor of an authentication plugin, New(Config,
// *consumer.Index): the raw config is decoded strictly and the filter gets
// the consumer index of its group (Deps.Consumers, compiled once per group
// and snapshot in Build).
func authn[C any, F any](newFilter func(C, *consumer.Index) (F, error)) func(json.RawMessage, Deps, string) (plugin.Filters, error) {
	return func(raw json.RawMessage, deps Deps, _ string) (plugin.Filters, error) {
		var cfg C
		if err := decodeStrict(raw, &cfg); err != nil {
			return plugin.Filters{}, err
		}
		return filters(newFilter(cfg, deps.Consumers))
	}
}
