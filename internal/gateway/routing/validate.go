// Package routing compiles a config snapshot into an immutable routing
// table: routes matched by host, method and path, each with its plugin
// chain and backend already built.
package routing

import "github.com/portico-gw/portico/internal/spec"

// Validate compiles snap without any I/O and returns the problems a gateway
// would refuse it for: spec.FieldErrors naming each bad plugin config or
// conflicting route, or another error. The control plane calls it before it
// commits a change (DESIGN.md rule 7).
func Validate(snap *spec.Snapshot) error {
	return nil // TODO(gateway helper): Build with no I/O.
}
