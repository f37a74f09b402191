// Package enginetest is the conformance suite every gateway engine runs:
// the same behaviour tests (proxying, errors, plugins, streaming, upgrades,
// limits, slow clients, request smuggling, hop-by-hop headers) driven over
// real loopback connections against whatever engine a Start function
// serves. It imports no engine; an engine's tests call
//
//	func TestConformance(t *testing.T) { enginetest.Run(t, enginetest.Engine{Start: start}) }
//
// It also exports the fixtures the engines' own tests and benchmarks use:
// a recording observer, backends, table builders and client helpers.
//
// Every wait is bounded by WaitLimit and every raw connection carries a
// deadline, so a broken engine fails instead of hanging. No test asserts
// that something was fast, only that it happened before a generous bound.
package enginetest

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// WaitLimit bounds every wait of the suite.
const WaitLimit = 20 * time.Second

// Observer, Limits and Config are the engines' own (package engine): the
// suite drives every engine through the configuration it takes.
type (
	Observer = engine.Observer
	Limits   = engine.Limits
	Config   = engine.Config
)

// Start serves an engine on a fresh 127.0.0.1 listener with cfg, registers
// its shutdown with t.Cleanup, and returns the base URL
// "http://127.0.0.1:port".
type Start func(t testing.TB, cfg Config) string

// Engine is an engine under test.
type Engine struct {
	Start Start
}

// suite is the engine every test of a Run drives.
type suite struct{ Engine }

type conformanceTest struct {
	name string
	fn   func(t *testing.T, s *suite)
	// serial tests measure the process's heap, so nothing else of the
	// suite may run beside them.
	serial bool
}

// tests lists the suite; each file adds its own.
func tests() []conformanceTest {
	var all []conformanceTest
	for _, group := range [][]conformanceTest{
		proxyTests, errorTests, retryTests, streamTests, upgradeTests, disconnectTests,
		smugglingTests, hopByHopTests, limitTests, slowClientTests, pipelineTests,
		registeredTests, upstreamTLSTests, balanceTests, overloadTests, healthTests, canaryTests, policyTests, authTests, backendStreamTests, pathPolicyTests,
		paramTests, cacheTests,
	} {
		all = append(all, group...)
	}
	return all
}

// Run runs every conformance test against e as subtests.
func Run(t *testing.T, e Engine) {
	if e.Start == nil {
		t.Fatal("enginetest.Run needs Engine.Start")
	}
	s := &suite{e}
	for _, tc := range tests() {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.serial {
				t.Parallel()
			}
			tc.fn(t, s)
		})
	}
}

// gateway starts the engine on tbl with default limits.
func (s *suite) gateway(t testing.TB, tbl *routing.Table) *Gateway {
	t.Helper()
	return StartGateway(t, s.Start, tbl, Limits{})
}

// gatewayWith starts the engine on tbl with lim.
func (s *suite) gatewayWith(t testing.TB, tbl *routing.Table, lim Limits) *Gateway {
	t.Helper()
	return StartGateway(t, s.Start, tbl, lim)
}
