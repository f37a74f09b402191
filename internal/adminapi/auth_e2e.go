//go:build portico_e2e

package adminapi

import "golang.org/x/crypto/bcrypt"

// The end-to-end tests build the binary with -tags portico_e2e (and the
// race detector under `make test`): there a DefaultCost hash takes close
// to a second, and the tests create and log in hundreds of users, so
// users' passwords are hashed at bcrypt's minimum cost. Checking reads the
// cost from the hash, so nothing else differs. A release build never
// carries the tag.
func init() { passwordCost = bcrypt.MinCost }
