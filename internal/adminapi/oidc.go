package adminapi

// OIDCConfig configures single sign-on through an OpenID Connect
// provider; a zero value turns it off.
type OIDCConfig struct{}

// oidcState is what single sign-on keeps between requests.
type oidcState struct {
	cfg OIDCConfig
}

func newOIDCState(cfg OIDCConfig) *oidcState { return &oidcState{cfg: cfg} }

// oidcEndpoints are the rows of single sign-on (appended to the table).
func (s *server) oidcEndpoints() []endpoint {
	return nil
}
