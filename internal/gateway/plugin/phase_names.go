package plugin

// phaseNames name the phases for people (the admin API's plugin
// catalogue, the console's chain), in the order of the constants.
var phaseNames = [...]string{
	PhaseIPRestriction:  "ip-restriction",
	PhaseCORS:           "cors",
	PhaseAuthentication: "authentication",
	PhaseSubscription:   "subscription",
	PhaseRateLimit:      "rate-limit",
	PhaseValidation:     "validation",
	PhaseSizeLimit:      "size-limit",
	PhaseTransform:      "transform",
	PhaseCanary:         "canary",
	PhaseBackend:        "backend",
	PhaseResponse:       "response",
}

// String names the phase; "" for a value that is no phase (a stream-only
// plugin's zero).
func (p Phase) String() string {
	if p <= 0 || int(p) >= len(phaseNames) {
		return ""
	}
	return phaseNames[p]
}
