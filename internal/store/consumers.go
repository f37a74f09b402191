package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
)

// groupConsumers assembles the applications admitted to one of the given
// deployed services, with their unexpired credentials and verifier
// material (hashes and sealed secrets, never a secret in clear): project-
// owned applications of the services' projects, and applications with an
// approved subscription to one of the services. Applications without a
// credential are left out: nothing could authenticate as them.
func (t *txn) groupConsumers(ctx context.Context, services []spec.DeployedService) ([]spec.Consumer, error) {
	if len(services) == 0 {
		return nil, nil
	}
	var projects, serviceIDs []string
	for _, ds := range services {
		if !slices.Contains(projects, ds.ProjectID) {
			projects = append(projects, ds.ProjectID)
		}
		serviceIDs = append(serviceIDs, ds.Service.ID)
	}
	args := make([]any, 0, len(projects)+len(serviceIDs)+1)
	for _, p := range projects {
		args = append(args, p)
	}
	for _, s := range serviceIDs {
		args = append(args, s)
	}
	inProjects := placeholders(1, len(projects))
	inServices := placeholders(len(projects)+1, len(serviceIDs))
	args = append(args, toNanos(now()))
	nowArg := fmt.Sprintf("$%d", len(args))

	byID := map[string]*spec.Consumer{}
	var order []string
	err := t.each(ctx, "consumers of a group", func(rows *sql.Rows) error {
		var c spec.Consumer
		var project sql.NullString
		var restrict string
		if err := rows.Scan(&c.ID, &c.Name, &project, &restrict); err != nil {
			return err
		}
		c.ProjectID = project.String
		var codec jsonCodec
		codec.decode("services", restrict, &c.Services)
		if codec.err != nil {
			return codec.err
		}
		byID[c.ID] = &c
		order = append(order, c.ID)
		return nil
	}, `SELECT id, name, project_id, services FROM applications
		WHERE project_id IN (`+inProjects+`)
		   OR id IN (SELECT application_id FROM subscriptions WHERE state = '`+spec.SubscriptionApproved+`'
		             AND service_id IN (`+inServices+`))
		ORDER BY created_at, id`, args[:len(args)-1]...)
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, nil
	}

	err = t.each(ctx, "credentials of a group's consumers", func(rows *sql.Rows) error {
		var cc spec.ConsumerCredential
		var app string
		var expires int64
		if err := rows.Scan(&app, &cc.ID, &cc.Type, &cc.Key, &cc.Hash, &cc.Sealed, &cc.Algorithm, &expires); err != nil {
			return err
		}
		cc.ExpiresAt = fromNanos(expires)
		if c := byID[app]; c != nil {
			c.Credentials = append(c.Credentials, cc)
		}
		return nil
	}, `SELECT c.application_id, c.id, c.type, c.lookup, c.secret_hash, c.secret_sealed, c.algorithm, c.expires_at
		FROM credentials c JOIN applications a ON a.id = c.application_id
		WHERE (a.project_id IN (`+inProjects+`)
		    OR a.id IN (SELECT application_id FROM subscriptions WHERE state = '`+spec.SubscriptionApproved+`'
		                AND service_id IN (`+inServices+`)))
		  AND (c.expires_at = 0 OR c.expires_at > `+nowArg+`)
		ORDER BY c.created_at, c.id`, args...)
	if err != nil {
		return nil, err
	}

	err = t.each(ctx, "subscriptions of a group's consumers", func(rows *sql.Rows) error {
		var app, svc string
		if err := rows.Scan(&app, &svc); err != nil {
			return err
		}
		if c := byID[app]; c != nil {
			c.Subscriptions = append(c.Subscriptions, svc)
		}
		return nil
	}, `SELECT application_id, service_id FROM subscriptions
		WHERE state = '`+spec.SubscriptionApproved+`' AND service_id IN (`+placeholders(1, len(serviceIDs))+`)
		ORDER BY application_id, service_id`, args[len(projects):len(projects)+len(serviceIDs)]...)
	if err != nil {
		return nil, err
	}

	out := make([]spec.Consumer, 0, len(order))
	for _, id := range order {
		if c := byID[id]; len(c.Credentials) > 0 {
			out = append(out, *c)
		}
	}
	return out, nil
}
