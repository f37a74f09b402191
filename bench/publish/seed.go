package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Names of what the benchmark creates.
const (
	benchGroup   = "bench"
	benchProject = "bench"
)

// seed fills a new store at loc with services of routes each, every one
// published to the bench group through release.Publish (the admin API's
// own road), in batches of transactions so seeding 10 000 services takes
// seconds, not the hours of 110 000 admin calls.
func seed(ctx context.Context, loc store.Location, services, routes, originPort int) error {
	st, err := store.Open(ctx, loc, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: benchGroup, PathPrefix: "/{project}"}); err != nil {
			return err
		}
		if _, err := release.Apply(ctx, tx, release.Change{Groups: []string{benchGroup},
			Audit: &release.AuditNote{Actor: "bench", Action: "release.gateway_group", Resource: "/gateway-groups/" + benchGroup}}); err != nil {
			return err
		}
		return tx.CreateProject(ctx, &spec.Project{ID: benchProject, Name: "Bench", TestGroup: benchGroup, ProductionGroup: benchGroup})
	})
	if err != nil {
		return fmt.Errorf("seed the group: %w", err)
	}
	const batch = 500
	for first := 0; first < services; first += batch {
		err := st.Tx(ctx, func(tx store.Tx) error {
			for i := first; i < min(first+batch, services); i++ {
				if err := seedService(ctx, tx, i, routes, originPort); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed services from %d: %w", first, err)
		}
	}
	return nil
}

func seedService(ctx context.Context, tx store.Tx, i, routes, originPort int) error {
	svc := spec.Service{ProjectID: benchProject, Name: serviceName(i), Path: "/" + serviceName(i),
		Upstream: &spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: originPort, Weight: 1}}}}
	if err := tx.CreateService(ctx, &svc); err != nil {
		return err
	}
	for r := range routes {
		rt := spec.Route{ServiceID: svc.ID, Name: fmt.Sprintf("r%d", r), Paths: []string{fmt.Sprintf("/r%d/{id}", r)}, Methods: []string{"GET"}}
		if err := tx.CreateRoute(ctx, &rt); err != nil {
			return err
		}
	}
	_, err := release.Publish(ctx, tx, "bench", benchProject, svc.ID, release.PublishRequest{Group: benchGroup, Version: "1.0.0"})
	return err
}

func serviceName(i int) string { return fmt.Sprintf("s%05d", i) }

// since is a readable duration for progress lines.
func since(t time.Time) string { return time.Since(t).Round(10 * time.Millisecond).String() }
