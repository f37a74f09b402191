package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// runSuite checks any Store implementation. open returns a fresh, empty,
// migrated store; the suite closes it.
func runSuite(t *testing.T, open func(t *testing.T) store.Store) {
	suites := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"LoginStates", testLoginStates},
		{"Projects", testProjects},
		{"Groups", testGroups},
		{"Upstreams", testUpstreams},
		{"Services", testServices},
		{"Folders", testFolders},
		{"Routes", testRoutes},
		{"Versions", testVersions},
		{"Deployments", testDeployments},
		{"VersionRouting", testVersionRouting},
		{"HistoryAndAudit", testHistoryAndAudit},
		{"AuditFilter", testAuditFilter},
		{"Lifecycle", testLifecycle},
		{"Paging", testPaging},
		{"Snapshot", testSnapshot},
		{"BumpRevision", testBumpRevision},
		{"ChangeLog", testChangeLog},
		{"SnapshotServices", testSnapshotServices},
		{"SnapshotLargeGroup", testSnapshotLargeGroup},
		{"RouteShapes", testRouteShapes},
		{"WaitRevision", testWaitRevision},
		{"TxSemantics", testTxSemantics},
		{"ConcurrentWriters", testConcurrentWriters},
		{"View", testView},
		{"Applications", testApplications},
		{"Canaries", testCanaries},
		{"DataSources", testDataSources},
		{"DataSourceMaps", testDataSourceMaps},
		{"GatewayTokens", testGatewayTokens},
		{"Certificates", testCertificates},
		{"Registries", testRegistries},
		{"GatewayInstances", testGatewayInstances},
		{"FigureReports", testFigureReports},
		{"Monitoring", testMonitoring},
		{"StoreSettings", testStoreSettings},
		{"DeployedAmong", testDeployedAmong},
		{"Market", testMarket},
		{"Alerts", testAlerts},
		{"CallLogs", testCallLogs},
		{"CachePurges", testCachePurges},
		{"CompositeUses", testCompositeUses},
		{"Packages", testPackages},
	}
	for _, sc := range suites {
		t.Run(sc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			sc.run(t, s)
		})
	}
}

// testCtx bounds every test, so a lost wake-up fails instead of hanging.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inTx runs fn in a transaction that must commit.
func inTx(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := testCtx(t)
	if err := s.Tx(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("tx: %v", err)
	}
}

// wantErr fails unless err wraps want (nil means no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, want)
	}
}

// seed creates what most tests stand on: project "p1" (and "p2"), group
// "default" with a plain prefix and "team" with a per-project prefix, and an
// upstream "up" in p1.
type seedIDs struct {
	upstream string
}

func seed(t *testing.T, s store.Store) seedIDs {
	t.Helper()
	var ids seedIDs
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, p := range []spec.Project{
			{ID: "p1", Name: "Project One", TestGroup: "default", ProductionGroup: "team"},
			{ID: "p2", Name: "Project Two", TestGroup: "default", ProductionGroup: "team"},
		} {
			if err := tx.CreateProject(ctx, &p); err != nil {
				return err
			}
		}
		for _, g := range []spec.GatewayGroup{
			{Name: "default", PathPrefix: ""},
			{Name: "team", PathPrefix: "/{project}"},
		} {
			if err := tx.CreateGroup(ctx, &g); err != nil {
				return err
			}
		}
		u := spec.Upstream{ProjectID: "p1", Name: "up", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 8080, Weight: 100}}}
		if err := tx.CreateUpstream(ctx, &u); err != nil {
			return err
		}
		ids.upstream = u.ID
		return nil
	})
	return ids
}

// newService creates a service with the given routes in project p.
func newService(t *testing.T, s store.Store, project, name string, routes ...string) spec.Service {
	t.Helper()
	svc := spec.Service{ProjectID: project, Name: name, Path: "/" + name, State: spec.StateDraft}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateService(ctx, &svc); err != nil {
			return err
		}
		for _, rn := range routes {
			r := spec.Route{ServiceID: svc.ID, Name: rn, Paths: []string{"/" + rn}, Methods: []string{"GET"}}
			if err := tx.CreateRoute(ctx, &r); err != nil {
				return err
			}
			svc.Routes = append(svc.Routes, r)
		}
		return nil
	})
	return svc
}

// freeze stores service svc (routes included) as version ver.
func freeze(t *testing.T, s store.Store, svc spec.Service, ver string) spec.Version {
	t.Helper()
	v := spec.Version{ProjectID: svc.ProjectID, ServiceID: svc.ID, Version: ver, Service: svc, CreatedBy: "tester"}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateVersion(ctx, &v) })
	return v
}

// deploy puts a deployment of svc@ver into group with an upstream whose
// name tells the deployments apart.
func deploy(t *testing.T, s store.Store, group string, svc spec.Service, ver string) spec.Deployment {
	t.Helper()
	d := spec.Deployment{
		Group: group, ProjectID: svc.ProjectID, ServiceID: svc.ID, Version: ver,
		Upstream: spec.Upstream{Name: fmt.Sprintf("%s-%s-%s", group, svc.Name, ver),
			Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9000, Weight: 1}}},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutDeployment(ctx, &d) })
	return d
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func ptr[T any](v T) *T { return &v }
