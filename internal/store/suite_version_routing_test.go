package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testVersionRouting: a deployment keeps its routed versions across a
// publish, they reach the snapshot frozen as published (a routed version
// that became the default left out), they go with the deployment, and
// parked deployments still read.
func testVersionRouting(t *testing.T, s store.Store) {
	seed(t, s)
	svc := newService(t, s, "p1", "orders", "list")
	freeze(t, s, svc, "1.0.0")
	v2 := svc
	v2.Routes = append(v2.Routes, spec.Route{ServiceID: svc.ID, Name: "export", Paths: []string{"/export"}})
	freeze(t, s, v2, "2.0.0")
	deploy(t, s, "default", svc, "1.0.0")
	vr := &spec.VersionRouting{By: spec.VersionByHeader, Name: "X-API-Version",
		Versions: []spec.RoutedVersion{{Version: "2.0.0", Match: "2",
			Upstream: &spec.Upstream{Nodes: []spec.Node{{Host: "10.0.0.2", Port: 80, Weight: 1}}}}}}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetVersionRouting(ctx, "nope", svc.ID, vr); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("routing where it does not run: %v, want ErrNotFound", err)
		}
		return tx.SetVersionRouting(ctx, "default", svc.ID, vr)
	})
	snapshotOf := func() spec.DeployedService {
		t.Helper()
		var ds spec.DeployedService
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			part, err := tx.SnapshotServices(ctx, "default", []string{svc.ID})
			if err == nil && len(part.Services) == 1 {
				ds = part.Services[0]
			}
			return err
		})
		return ds
	}
	ds := snapshotOf()
	if ds.VersionRouting == nil || len(ds.Versions) != 1 || ds.Versions[0].Version != "2.0.0" || ds.Versions[0].Match != "2" ||
		len(ds.Versions[0].Service.Routes) != 2 || ds.Versions[0].Upstream.Nodes[0].Host != "10.0.0.2" {
		t.Fatalf("snapshot = %+v", ds)
	}

	// A publish replaces the default and keeps the routing; 2.0.0 as the
	// default is served as the default only.
	deploy(t, s, "default", svc, "2.0.0")
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d, err := tx.GetDeployment(ctx, "default", svc.ID)
		if err == nil && (d.VersionRouting == nil || d.VersionRouting.Versions[0].Version != "2.0.0") {
			t.Errorf("deployment after a publish = %+v, want the routing kept", d)
		}
		return err
	})
	if ds := snapshotOf(); ds.VersionRouting != nil || len(ds.Versions) != 0 {
		t.Errorf("2.0.0 as the default: snapshot routes %+v", ds.Versions)
	}

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		d, err := tx.GetDeployment(ctx, "default", svc.ID)
		if err != nil {
			return err
		}
		if err := tx.ParkDeployment(ctx, &d); err != nil {
			return err
		}
		if parked, err := tx.ListParkedDeployments(ctx, svc.ID); err != nil || len(parked) != 1 {
			t.Errorf("parked = %+v, %v", parked, err)
		}
		if err := tx.SetVersionRouting(ctx, "default", svc.ID, nil); err != nil {
			return err
		}
		d, err = tx.GetDeployment(ctx, "default", svc.ID)
		if err == nil && d.VersionRouting != nil {
			t.Errorf("routing deleted, still %+v", d.VersionRouting)
		}
		return err
	})
}
