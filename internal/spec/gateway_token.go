package spec

import "time"

// GatewayToken admits the stand-alone gateways of one group to the control
// plane's configuration feed (`portico gateway --token`). A token reads
// everything its group runs, so only admins make one; the store keeps only
// its SHA-256, and Token is set in the answer that creates it, the one time
// it is shown.
type GatewayToken struct {
	ID         string    `json:"id"`
	Group      string    `json:"group"`
	Name       string    `json:"name"`                  // what it is for ("eu-west gateways"); unique in the group
	Hint       string    `json:"hint"`                  // the token's last four characters
	ExpiresAt  time.Time `json:"expires_at,omitzero"`   // refused from then on; zero: never
	LastUsedAt time.Time `json:"last_used_at,omitzero"` // the last time a gateway presented it
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Token      string    `json:"token,omitempty"`
}

// GatewayTokenPrefix starts every gateway token, so a leaked one is
// recognisable (secret scanners, logs) and never mistaken for an API key.
const GatewayTokenPrefix = "ptg_"
