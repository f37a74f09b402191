package spec

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Quota periods. A day and a month are calendar periods in the time zone
// of the gateway group that counts them (GatewayGroup.TimeZone); the
// shorter ones are fixed windows.
const (
	QuotaSecond = "second"
	QuotaMinute = "minute"
	QuotaHour   = "hour"
	QuotaDay    = "day"
	QuotaMonth  = "month"
)

// QuotaPeriods lists the periods from the shortest.
var QuotaPeriods = []string{QuotaSecond, QuotaMinute, QuotaHour, QuotaDay, QuotaMonth}

// Quota is at most Count calls per Period.
type Quota struct {
	Count  int64  `json:"count"`
	Period string `json:"period"`
}

// Plan is what a service offers a subscription: its quotas (none: no
// limit beyond the service's own plugins).
type Plan struct {
	ID          string    `json:"id,omitempty"`
	ServiceID   string    `json:"service,omitempty"` // set by the server
	ProjectID   string    `json:"project,omitempty"` // set by the server
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Quotas      []Quota   `json:"quotas,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// maxQuotaCount keeps counters far from overflowing.
const maxQuotaCount = 1 << 40

// Validate checks a plan: a name, and at most one quota per period.
func (p *Plan) Validate() error {
	var fe FieldErrors
	validateName(&fe, "name", p.Name)
	if len(p.Description) > 2000 {
		fe.Add("description", "is longer than 2000 characters")
	}
	ValidateQuotas(&fe, "quotas", p.Quotas)
	return fe.Err()
}

// ValidateQuotas checks quotas under field.
func ValidateQuotas(fe *FieldErrors, field string, qs []Quota) {
	seen := map[string]bool{}
	for i, q := range qs {
		at := fmt.Sprintf("%s[%d]", field, i)
		if q.Count <= 0 || q.Count > maxQuotaCount {
			fe.Add(at+".count", "must be between 1 and %d calls", int64(maxQuotaCount))
		}
		switch {
		case !contains(QuotaPeriods, q.Period):
			fe.Add(at+".period", "must be one of %s", strings.Join(QuotaPeriods, ", "))
		case seen[q.Period]:
			fe.Add(at+".period", "has a quota already")
		}
		seen[q.Period] = true
	}
}

// ConsumerPlan is the plan of one approved subscription as a gateway needs
// it: which service, which subscription counts, which quotas.
type ConsumerPlan struct {
	Service      string  `json:"service"`
	Subscription string  `json:"subscription"`
	Plan         string  `json:"plan,omitempty"` // the plan's name; "" without one
	Quotas       []Quota `json:"quotas,omitempty"`
}

// Listing is a service launched into the catalog: the version whose
// documentation the catalog shows and whether subscriptions to it are
// approved without review. Listing is separate from running: a listed
// service shows in the catalog while it runs in its production group.
type Listing struct {
	ServiceID   string    `json:"service"`
	ProjectID   string    `json:"project"`
	Version     string    `json:"version"`
	AutoApprove bool      `json:"auto_approve"`
	ListedBy    string    `json:"listed_by,omitempty"` // user id; "" for listings older than approvals
	ListedAt    time.Time `json:"listed_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Approval kinds.
const (
	ApprovalListing      = "listing"
	ApprovalDelisting    = "delisting"
	ApprovalSubscription = "subscription"
)

// ApprovalKinds lists the kinds of request.
var ApprovalKinds = []string{ApprovalListing, ApprovalDelisting, ApprovalSubscription}

// Approval states. Only a pending request changes; the others are final.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalRejected  = "rejected"
	ApprovalCancelled = "cancelled"
)

// ApprovalStates lists the states.
var ApprovalStates = []string{ApprovalPending, ApprovalApproved, ApprovalRejected, ApprovalCancelled}

// Who approves: a project admin of the service's project (a member whose
// role grants approval:review there) or a super admin.
const (
	ApproverProjectAdmin = "project_admin"
	ApproverSuperAdmin   = "super_admin"
)

// Approval is a request waiting for (or past) a decision.
type Approval struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Project string `json:"project"`
	// Service is the service the request is about (listed, delisted or
	// subscribed to), ServiceName its name when the request was made.
	Service     string `json:"service"`
	ServiceName string `json:"service_name"`
	// Subject is what the request changes: the subscription id of a
	// subscription request, the service id of a listing or delisting.
	Subject string `json:"subject"`
	// Requester is the user id of who asked; RequesterName their username.
	Requester     string `json:"requester"`
	RequesterName string `json:"requester_name,omitempty"`
	ApproverRole  string `json:"approver_role"`
	State         string `json:"state"`
	Comment       string `json:"comment,omitempty"`
	// Detail is what the request carries: the version and auto_approve of
	// a listing, the application and plan of a subscription.
	Detail    map[string]string `json:"detail,omitempty"`
	History   []ApprovalEvent   `json:"history,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// ApprovalEvent is one step of a request: requested, approved, rejected,
// cancelled.
type ApprovalEvent struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"` // user id
	ActorName string    `json:"actor_name,omitempty"`
	Action    string    `json:"action"`
	Comment   string    `json:"comment,omitempty"`
}

// Webhook is a project's receiver of approval events. The secret signs
// every delivery (HMAC-SHA256); it is written, never read back.
type Webhook struct {
	URL       string `json:"url"`
	Secret    string `json:"secret,omitempty"`
	SecretSet bool   `json:"secret_set,omitempty"`
}

// ValidateWebhookURL checks a receiver address: http or https, a host, no
// credentials in it (they would show in every listing of the project).
func ValidateWebhookURL(fe *FieldErrors, field, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		fe.Add(field, "is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		fe.Add(field, "must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		fe.Add(field, "must name a host")
	case u.User != nil:
		fe.Add(field, "must not carry a user name or password")
	case u.Fragment != "":
		fe.Add(field, "must not have a fragment")
	}
}

// ValidatePublicURL checks a gateway group's public address: http or
// https, a host, nothing after it but an optional path prefix.
func ValidatePublicURL(fe *FieldErrors, field, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		fe.Add(field, "is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		fe.Add(field, "must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		fe.Add(field, "must name a host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		fe.Add(field, "must be scheme://host[:port] with no user, query or fragment")
	case strings.HasSuffix(u.Path, "/"):
		fe.Add(field, "must not end with '/'")
	}
}

// ZoneOf is the location of a group's time zone; UTC when unset or
// unknown (validation refuses an unknown one).
func (g *GatewayGroup) ZoneOf() *time.Location {
	if g.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(g.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
