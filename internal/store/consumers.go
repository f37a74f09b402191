package store

import (
	"context"
	"database/sql"

	"github.com/portico-gw/portico/internal/spec"
)

// admittedInGroup is the condition that application a is admitted to a
// service deployed in group $1: it belongs to a project deployed there, or
// holds an approved subscription to a service deployed there. Both tests
// are correlated lookups by key (deployments_group_project, the primary
// key of deployments, subscriptions by application), so the cost follows
// the applications, never the number of services in the group, and no
// list of the group's services is bound (40 000 of them would pass
// SQLite's limit on bind parameters).
const admittedInGroup = `(EXISTS (SELECT 1 FROM deployments d WHERE d.group_name = $1 AND d.project_id = a.project_id)
	OR EXISTS (SELECT 1 FROM subscriptions s JOIN deployments d ON d.group_name = $1 AND d.service_id = s.service_id
	           WHERE s.application_id = a.id AND s.state = '` + spec.SubscriptionApproved + `'))`

// ownerEnabled is the condition that application a is not a disabled
// user's own: a user's applications stop authenticating at the gateways
// while the user is disabled (a project's applications stay, whoever
// created them).
const ownerEnabled = `(a.project_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.owner_id AND u.disabled <> 0))`

// groupConsumers assembles the applications admitted to a service
// deployed in group, with their unexpired credentials and verifier
// material (hashes and sealed secrets, never a secret in clear): project-
// owned applications of the services' projects, and applications with an
// approved subscription to one of the services. Applications without a
// credential are left out: nothing could authenticate as them.
func (t *txn) groupConsumers(ctx context.Context, group string) ([]spec.Consumer, error) {
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
	}, `SELECT a.id, a.name, a.project_id, a.services FROM applications a
		WHERE `+admittedInGroup+` AND `+ownerEnabled+`
		ORDER BY a.created_at, a.id`, group)
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
		WHERE `+admittedInGroup+` AND `+ownerEnabled+`
		  AND (c.expires_at = 0 OR c.expires_at > $2)
		ORDER BY c.created_at, c.id`, group, toNanos(now()))
	if err != nil {
		return nil, err
	}

	err = t.each(ctx, "subscriptions of a group's consumers", func(rows *sql.Rows) error {
		var app, svc, sub string
		var plan, quotas sql.NullString
		if err := rows.Scan(&app, &svc, &sub, &plan, &quotas); err != nil {
			return err
		}
		c := byID[app]
		if c == nil {
			return nil
		}
		c.Subscriptions = append(c.Subscriptions, svc)
		cp := spec.ConsumerPlan{Service: svc, Subscription: sub, Plan: plan.String}
		if quotas.Valid {
			var codec jsonCodec
			if codec.decode("quotas", quotas.String, &cp.Quotas); codec.err != nil {
				return codec.err
			}
		}
		c.Plans = append(c.Plans, cp)
		return nil
	}, `SELECT s.application_id, s.service_id, s.id, p.name, p.quotas FROM subscriptions s
		LEFT JOIN plans p ON p.id = s.plan_id
		WHERE s.state = '`+spec.SubscriptionApproved+`'
		  AND EXISTS (SELECT 1 FROM deployments d WHERE d.group_name = $1 AND d.service_id = s.service_id)
		ORDER BY s.application_id, s.service_id`, group)
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
