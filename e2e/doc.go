// Package e2e holds black-box tests: they build the portico binary, run it
// on random loopback ports and drive it over HTTP exactly as a user with
// curl would.
package e2e
