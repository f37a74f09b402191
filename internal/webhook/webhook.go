// Package webhook tells a project's receiver about its approval and alert
// events: Enqueue stores a delivery in the transaction that made the
// event, and the control plane's Deliverer POSTs it, signed with the
// project's secret (Sign, Verify), retrying with back-off until the
// receiver answers 2xx or the attempts run out. Receivers are addresses a
// project admin typed, so the Deliverer dials only public addresses
// unless told otherwise (dial.go). docs/webhooks.md is the receiver's
// side.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/portico-gw/portico/internal/store"
)

// The events, as HeaderEvent and the body's "event" carry them. Each
// approval event delivers the approval (spec.Approval) as it is after
// the change; each alert event the change of an alert rule's state
// (spec.AlertEvent) with the rule after it.
const (
	EventApprovalRequested = "approval.requested"
	EventApprovalApproved  = "approval.approved"
	EventApprovalRejected  = "approval.rejected"
	EventApprovalCancelled = "approval.cancelled"
	EventAlertFiring       = "alert.firing"
	EventAlertResolved     = "alert.resolved"
)

// Events lists the events a receiver may get.
var Events = []string{EventApprovalRequested, EventApprovalApproved, EventApprovalRejected, EventApprovalCancelled,
	EventAlertFiring, EventAlertResolved}

// Payload is a delivery's body. ID is the delivery's (HeaderDelivery):
// the same on every attempt, so a receiver that saw it already can
// answer 2xx and do nothing.
type Payload struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"created_at"` // whole seconds, UTC (RFC 3339)
	Project   string    `json:"project"`
	Data      any       `json:"data"`
}

// SecretAAD is the associated data a project's webhook secret is sealed
// with (credential.Keyring.Seal(secret, SecretAAD(project))), binding it
// to its project: the admin API seals, the Deliverer opens.
func SecretAAD(project string) string { return "webhook:" + project }

// Enqueue queues event for the project's receiver, in tx: the delivery
// exists exactly when the change that made the event commits. A project
// without a receiver gets nothing. data is what the event is about (a
// spec.Approval) and is sent as the body's "data".
func Enqueue(ctx context.Context, tx store.Tx, project, event string, data any) error {
	if !slices.Contains(Events, event) {
		return fmt.Errorf("webhook: unknown event %q", event)
	}
	url, _, err := tx.GetProjectWebhook(ctx, project)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	if url == "" {
		return nil
	}
	// The id is made here rather than by the store, so the body names it.
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("webhook %s: delivery id: %w", event, err)
	}
	body, err := json.Marshal(Payload{ID: id.String(), Event: event, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Project: project, Data: data})
	if err != nil {
		return fmt.Errorf("webhook %s: encode the body: %w", event, err)
	}
	return tx.EnqueueWebhook(ctx, &store.WebhookDelivery{ID: id.String(), Project: project, Event: event, Body: string(body)})
}
