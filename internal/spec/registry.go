package spec

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Registry is a service registry connection of a gateway group: the
// gateways of the group ask it for the nodes of upstreams whose
// discovery names it. Credentials are write-only: the store keeps them
// sealed (credential.Keyring, the registry id as associated data), the
// admin API never answers them, and only a gateway opens them.
type Registry struct {
	ID    string `json:"id,omitempty"`
	Group string `json:"group,omitempty"` // the gateway group (from the path)
	Name  string `json:"name"`
	// Type is dns, consul, kubernetes, nacos or eureka.
	Type string `json:"type"`
	// Address is the registry's base URL (http or https) for consul,
	// kubernetes, nacos and eureka; for dns the host:port of a DNS server
	// ("": the gateway's resolver).
	Address string `json:"address,omitempty"`
	// Namespace is the default namespace of the upstreams that give none
	// (Kubernetes namespace, Nacos namespace id, Consul namespace).
	Namespace string `json:"namespace,omitempty"`
	// ServiceGroup is Nacos's group (default DEFAULT_GROUP).
	ServiceGroup string `json:"service_group,omitempty"`
	// Username and Password log in to Nacos or Eureka (HTTP basic).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Token is a Consul ACL token or a Kubernetes service-account token.
	Token string `json:"token,omitempty"`
	// CA is a PEM bundle trusted for an https address (default: the
	// system's roots).
	CA string `json:"ca,omitempty"`
	// PollInterval is how often registries without blocking queries (and
	// DNS without a TTL) are asked again, seconds; default 5.
	PollInterval float64 `json:"poll_interval,omitempty"`
	// HasPassword and HasToken say a credential is set (answers only).
	HasPassword bool `json:"has_password,omitempty"`
	HasToken    bool `json:"has_token,omitempty"`
	// Sealed holds the credentials encrypted in snapshots (a JSON object
	// {"password","token"} sealed); Secret is it opened, only in the
	// memory of a gateway.
	Sealed string `json:"sealed,omitempty"`
	Secret string `json:"secret,omitempty"`
	// Status is what the group's gateway instances report of it
	// (answers only).
	Status    []RegistryStatus `json:"status,omitempty"`
	CreatedAt time.Time        `json:"created_at,omitzero"`
	UpdatedAt time.Time        `json:"updated_at,omitzero"`
}

// Registry types.
var RegistryTypes = []string{"dns", "consul", "kubernetes", "nacos", "eureka"}

// RegistryCredentials is what Registry.Sealed seals.
type RegistryCredentials struct {
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// RegistryStatus is how one gateway instance finds a registry: healthy
// when its last answer came, else the error; LastSync is when nodes last
// came; Services how many discovered upstreams it follows there.
type RegistryStatus struct {
	Instance string    `json:"instance,omitempty"` // filled by the control plane
	Registry string    `json:"registry"`
	Healthy  bool      `json:"healthy"`
	Error    string    `json:"error,omitempty"`
	LastSync time.Time `json:"last_sync,omitzero"`
	Services int       `json:"services"`
}

// Validate checks a registry connection as written.
func (r *Registry) Validate() error {
	var fe FieldErrors
	validateSlugName(&fe, "name", r.Name)
	switch r.Type {
	case "dns":
		if r.Address != "" {
			host, port, err := net.SplitHostPort(r.Address)
			if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 1 || p > 65535 || host == "" {
				fe.Add("address", "must be host:port of a DNS server, or empty for the gateway's resolver")
			}
		}
		for _, f := range []struct {
			name string
			set  bool
		}{{"username", r.Username != ""}, {"password", r.Password != ""}, {"token", r.Token != ""},
			{"ca", r.CA != ""}, {"namespace", r.Namespace != ""}, {"service_group", r.ServiceGroup != ""}} {
			if f.set {
				fe.Add(f.name, "does not apply to a dns registry")
			}
		}
	case "consul", "kubernetes", "nacos", "eureka":
		u, err := url.Parse(r.Address)
		switch {
		case r.Address == "":
			fe.Add("address", "is required")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "":
			fe.Add("address", "must be an http or https URL without credentials, query or fragment")
		case r.CA != "" && u.Scheme != "https":
			fe.Add("ca", "applies to an https address only")
		}
		if r.CA != "" {
			if _, err := ParseCABundle(r.CA); err != nil {
				fe.Add("ca", "%v", err)
			}
		}
		if r.ServiceGroup != "" && r.Type != "nacos" {
			fe.Add("service_group", "applies to a nacos registry only")
		}
		if (r.Username != "" || r.Password != "") && r.Type != "nacos" && r.Type != "eureka" {
			fe.Add("username", "applies to nacos and eureka registries only (consul and kubernetes take a token)")
		}
		if r.Password != "" && r.Username == "" {
			fe.Add("username", "is required with a password")
		}
		if r.Token != "" && r.Type != "consul" && r.Type != "kubernetes" {
			fe.Add("token", "applies to consul and kubernetes registries only")
		}
		if r.Namespace != "" && r.Type == "eureka" {
			fe.Add("namespace", "does not apply to a eureka registry")
		}
	default:
		fe.Add("type", "must be one of %s", strings.Join(RegistryTypes, ", "))
	}
	for field, v := range map[string]string{"username": r.Username, "namespace": r.Namespace, "service_group": r.ServiceGroup} {
		if len(v) > 253 || strings.ContainsFunc(v, func(c rune) bool { return c < 0x21 || c == 0x7f }) {
			fe.Add(field, "must be at most 253 printable characters without spaces")
		}
	}
	if len(r.Password) > 4096 || len(r.Token) > 16384 {
		fe.Add("token", "is too long")
	}
	if r.PollInterval != 0 && (r.PollInterval < 1 || r.PollInterval > 3600) {
		fe.Add("poll_interval", "must be between 1 and 3600 seconds")
	}
	return fe.Err()
}

// Redacted is r as the admin API answers it: credentials only as flags.
func (r Registry) Redacted() Registry {
	r.HasPassword = r.HasPassword || r.Password != ""
	r.HasToken = r.HasToken || r.Token != ""
	r.Password, r.Token, r.Sealed, r.Secret = "", "", "", ""
	return r
}
