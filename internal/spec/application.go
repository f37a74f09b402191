package spec

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// credIDRe is what a client-chosen identifier (key, username, access key,
// client id) may hold: it travels in headers, query strings and Basic auth.
var credIDRe = regexp.MustCompile(`^[!-+\--9;-~]{1,128}$`)

// Credential types: each is also the name of the gateway
// plugin that accepts it.
const (
	CredKeyAuth   = "key-auth"
	CredBasicAuth = "basic-auth"
	CredHMACAuth  = "hmac-auth"
	CredJWTAuth   = "jwt-auth"
	// CredMTLSAuth names a client certificate by its subject; the gateway's
	// TLS listener verifies the certificate (the certificate of the host
	// asked for names the CA: client_ca).
	CredMTLSAuth = "mtls-auth"
	CredOAuth2   = "oauth2"
)

// CredentialTypes lists the credential types in documentation order.
var CredentialTypes = []string{CredKeyAuth, CredBasicAuth, CredHMACAuth, CredJWTAuth, CredOAuth2, CredMTLSAuth}

// JWTAlgorithms are the signing algorithms a jwt-auth credential may name.
var JWTAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "ES256"}

// Subscription states. A subscription waits in pending for its approval
// (none when the listing says auto_approve); only an approved one admits
// its application. Rejected and cancelled ones stay to be seen until the
// application applies again.
const (
	SubscriptionApproved  = "approved"
	SubscriptionPending   = "pending"
	SubscriptionRejected  = "rejected"
	SubscriptionCancelled = "cancelled"
)

// Application is a consumer: it holds credentials. Owned by a project (the
// project's "call credentials": admitted to every service of the
// project, or only to Services when given) or by a user (admitted to the
// services it subscribes to).
type Application struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// ProjectID makes the application project-owned; "" means user-owned.
	ProjectID string `json:"project,omitempty"`
	// Owner is the id of the user owning a user-owned application; set by
	// the server from the caller.
	Owner string `json:"owner,omitempty"`
	// Services, for a project-owned application, narrows admission to
	// these service ids of the project (per-service credentials).
	Services  []string  `json:"services,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate checks an application.
func (a *Application) Validate() error {
	var fe FieldErrors
	validateName(&fe, "name", a.Name)
	if a.ProjectID != "" && !ValidSlug(a.ProjectID) {
		fe.Add("project", "is not a valid project id")
	}
	if a.ProjectID == "" && len(a.Services) > 0 {
		fe.Add("services", "only a project-owned application is narrowed to services; a user's subscribes instead")
	}
	seen := map[string]bool{}
	for i, s := range a.Services {
		switch {
		case s == "":
			fe.Add(fmt.Sprintf("services[%d]", i), "must be a service id")
		case seen[s]:
			fe.Add(fmt.Sprintf("services[%d]", i), "is listed twice")
		}
		seen[s] = true
	}
	return fe.Err()
}

// Credential is one way an application proves who it is. Which fields
// apply depends on Type: key-auth {key}, basic-auth {username, password},
// hmac-auth {access_key, secret_key}, jwt-auth {key, secret, algorithm},
// oauth2 {client_id, client_secret}, mtls-auth {subject}. The secret fields (key of key-auth,
// password, secret_key, secret, client_secret) are filled only in the
// answer that creates the credential; the store keeps hashes or sealed
// values, never the secret itself.
type Credential struct {
	ID            string `json:"id,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	Type          string `json:"type"`

	Key          string `json:"key,omitempty"`           // key-auth (secret) and jwt-auth (names the credential)
	Username     string `json:"username,omitempty"`      // basic-auth
	Password     string `json:"password,omitempty"`      // basic-auth, secret
	AccessKey    string `json:"access_key,omitempty"`    // hmac-auth
	SecretKey    string `json:"secret_key,omitempty"`    // hmac-auth, secret
	Secret       string `json:"secret,omitempty"`        // jwt-auth, secret (HS*) or public key PEM (RS256, ES256)
	Algorithm    string `json:"algorithm,omitempty"`     // jwt-auth; default HS256
	ClientID     string `json:"client_id,omitempty"`     // oauth2
	ClientSecret string `json:"client_secret,omitempty"` // oauth2, secret
	// Subject is, for mtls-auth, the client certificate's common name or
	// one of its subject alternative names (DNS name, e-mail address, URI)
	// that identifies the application.
	Subject string `json:"subject,omitempty"`

	// Hint tells key-auth keys apart in lists: "..." and the key's last
	// four characters, nothing derived from its hash (KeyHint).
	Hint string `json:"hint,omitempty"`
	// ExpiresAt, when set, ends the credential: the overlap of a rotation.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Least lengths of client-chosen secrets. A key-auth key is stored as an
// unsalted SHA-256, so a short one is found by trying guesses against the
// hash; HMAC and HS* JWT secrets can be guessed offline from any signed
// request; a client secret is kept like a key. A password is bcrypt's,
// slow to guess, and often typed by a person.
const (
	MinKeyLength      = 16
	MinPasswordLength = 12
)

// KeyHint is what a list shows of a key-auth key: its last four
// characters, enough to tell keys apart and too few to matter in a key of
// at least MinKeyLength; a shorter key shows nothing.
func KeyHint(key string) string {
	if len(key) < MinKeyLength {
		return ""
	}
	return "..." + key[len(key)-4:]
}

// Redacted is c without its secret fields: what lists and reads show.
func (c Credential) Redacted() Credential {
	if c.Type == CredKeyAuth {
		c.Key = ""
	}
	c.Password, c.SecretKey, c.Secret, c.ClientSecret = "", "", "", ""
	return c
}

// Validate checks a credential as sent by a client; left-out secrets and
// identifiers are generated later, so only what is given is checked.
func (c *Credential) Validate() error {
	var fe FieldErrors
	if !ValidStoredTime(c.ExpiresAt) {
		fe.Add("expires_at", "must be before 2200")
	}
	given := map[string]bool{
		"key": c.Key != "", "username": c.Username != "", "password": c.Password != "",
		"access_key": c.AccessKey != "", "secret_key": c.SecretKey != "", "secret": c.Secret != "",
		"algorithm": c.Algorithm != "", "client_id": c.ClientID != "", "client_secret": c.ClientSecret != "",
		"subject": c.Subject != "",
	}
	var allowed []string
	switch c.Type {
	case "":
		fe.Add("type", "is required: one of key-auth, basic-auth, hmac-auth, jwt-auth, oauth2, mtls-auth")
		return fe.Err()
	case CredKeyAuth:
		allowed = []string{"key"}
	case CredBasicAuth:
		allowed = []string{"username", "password"}
		if c.Username == "" {
			fe.Add("username", "is required")
		}
		if len(c.Password) > 72 {
			fe.Add("password", "must be at most 72 bytes")
		}
	case CredHMACAuth:
		allowed = []string{"access_key", "secret_key"}
	case CredJWTAuth:
		allowed = []string{"key", "secret", "algorithm"}
		if c.Algorithm != "" && !contains(JWTAlgorithms, c.Algorithm) {
			fe.Add("algorithm", "must be one of HS256, HS384, HS512, RS256, ES256")
		}
		if (c.Algorithm == "RS256" || c.Algorithm == "ES256") && c.Secret == "" {
			fe.Add("secret", "is required for %s: the PEM public key that checks the signatures", c.Algorithm)
		}
	case CredOAuth2:
		allowed = []string{"client_id", "client_secret"}
	case CredMTLSAuth:
		allowed = []string{"subject"}
		switch {
		case c.Subject == "":
			fe.Add("subject", "is required: the client certificate's common name or a subject alternative name")
		case len(c.Subject) > 256 || strings.ContainsFunc(c.Subject, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			fe.Add("subject", "must be 1-256 characters without control characters")
		}
	default:
		fe.Add("type", "must be one of key-auth, basic-auth, hmac-auth, jwt-auth, oauth2, mtls-auth")
		return fe.Err()
	}
	for _, f := range []string{"key", "username", "password", "access_key", "secret_key", "secret", "algorithm", "client_id", "client_secret", "subject"} {
		if given[f] && !contains(allowed, f) {
			fe.Add(f, "does not apply to a %s credential", c.Type)
		}
	}
	for _, x := range [][2]string{{"key", c.Key}, {"username", c.Username}, {"access_key", c.AccessKey}, {"client_id", c.ClientID}} {
		if x[1] != "" && !credIDRe.MatchString(x[1]) {
			fe.Add(x[0], "must be 1-128 printable ASCII characters without space, ':' or ','")
		}
	}
	hsSecret := ""
	if c.Type == CredJWTAuth && c.Algorithm != "RS256" && c.Algorithm != "ES256" {
		hsSecret = c.Secret
	}
	keySecret := ""
	if c.Type == CredKeyAuth {
		keySecret = c.Key
	}
	for _, x := range []struct {
		field, value string
		least        int
	}{
		{"key", keySecret, MinKeyLength},
		{"password", c.Password, MinPasswordLength},
		{"secret_key", c.SecretKey, MinKeyLength},
		{"client_secret", c.ClientSecret, MinKeyLength},
		{"secret", hsSecret, MinKeyLength},
	} {
		if x.value != "" && contains(allowed, x.field) && len(x.value) < x.least {
			fe.Add(x.field, "must be at least %d characters; leave it out to have one generated", x.least)
		}
	}
	return fe.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Subscription admits a user's application to a listed service.
type Subscription struct {
	ID            string `json:"id,omitempty"`
	ApplicationID string `json:"application"`
	ServiceID     string `json:"service"`
	ProjectID     string `json:"project,omitempty"` // the service's project; set by the server
	State         string `json:"state,omitempty"`
	// Plan is the id of the service's plan the subscription picked ("":
	// none; a service that offers plans needs one).
	Plan string `json:"plan,omitempty"`
	// Approval is the id of the request that admits it; set by the server.
	Approval string `json:"approval,omitempty"`
	// Comment goes to the approver with the request; not stored on the
	// subscription.
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Validate checks a subscription request.
func (s *Subscription) Validate() error {
	var fe FieldErrors
	if s.ApplicationID == "" {
		fe.Add("application", "is required")
	}
	if s.ServiceID == "" {
		fe.Add("service", "is required")
	}
	return fe.Err()
}

// ValidStoredTime says whether t can be kept: times are stored as Unix
// nanoseconds, which end in 2262, so anything from 2200 on is refused
// rather than stored wrapped into the past.
func ValidStoredTime(t time.Time) bool { return t.IsZero() || t.Year() < 2200 }
