package spec

import "time"

// Consumer is an application as a gateway group needs it: who it is, where
// it is admitted and how to check its credentials. The control plane puts
// in a group's snapshot only the applications admitted to a service that
// runs there.
//
// Secret material: key-auth keys arrive as their SHA-256, basic-auth
// passwords as bcrypt hashes and oauth2 client secrets as SHA-256: the
// gateway checks, it never needs them back. HMAC and JWT secrets must be
// recovered to verify a signature: the store assembles them sealed
// (AES-GCM, Sealed) and the control plane opens them into Secret only when
// it hands the snapshot to its in-process gateway, so a snapshot at rest
// or in a history never carries them in clear.
type Consumer struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project,omitempty"` // project-owned: admitted to the project's services
	// Services narrows a project-owned application's admission.
	Services []string `json:"services,omitempty"`
	// Subscriptions are the services an approved subscription admits it to.
	Subscriptions []string `json:"subscriptions,omitempty"`
	// Plans are the plans of those subscriptions that have one, with the
	// quotas the gateway counts per subscription.
	Plans       []ConsumerPlan       `json:"plans,omitempty"`
	Credentials []ConsumerCredential `json:"credentials"`
}

// ConsumerCredential is one credential with its verifier material.
type ConsumerCredential struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Key is how the gateway finds the credential: the hex SHA-256 of a
	// key-auth key, the basic-auth username, the hmac access key, the jwt
	// key or the oauth2 client id.
	Key string `json:"key"`
	// Hash is the bcrypt hash of a basic-auth password or the hex SHA-256
	// of an oauth2 client secret.
	Hash string `json:"hash,omitempty"`
	// Sealed is the encrypted HMAC or JWT secret (credential.Keyring, the
	// credential id as associated data).
	Sealed string `json:"sealed,omitempty"`
	// Secret is Sealed opened: only in memory, in process.
	Secret    string    `json:"secret,omitempty"`
	Algorithm string    `json:"algorithm,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}
