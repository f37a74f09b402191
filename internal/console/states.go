package console

import "github.com/portico-gw/portico/internal/spec"

// stateBadge is what the layout's "badge" template draws: the class keeps
// the raw value (the stylesheet colours s-published, s-draft…), the text
// is the value in the page's language.
type stateBadge struct {
	State, Text string
}

// StateText says a state in the page's language; one the catalogue does
// not know (a newer server's) is shown as it came.
func (p *page) StateText(state string) string { return p.Enum("state", state) }

// Enum says an enumerated value of the admin API in the page's language,
// looked up as kind.value ("action.rollback"), else as it came.
func (p *page) Enum(kind, value string) string {
	if key := kind + "." + value; value != "" && messages.Has(key) {
		return p.T(key)
	}
	return value
}

// Badge is a state's badge in the page's language.
func (p *page) Badge(state string) stateBadge {
	return stateBadge{State: state, Text: p.StateText(state)}
}

// roleName is a role as the layout's "role" template draws it.
type roleName struct {
	ID, Text string
}

// RoleName is a role in the page's language: a built-in role's name
// (its English one is the identifier, which the CLI and the admin API
// take); a custom role's name as it was given.
func (p *page) RoleName(id string) roleName { return roleName{ID: id, Text: p.Enum("role_name", id)} }

func init() {
	// credTypes are the credentials an application's form offers, in
	// the order of the admin API's documentation.
	funcs["credTypes"] = func() []string {
		return []string{spec.CredKeyAuth, spec.CredBasicAuth, spec.CredHMACAuth, spec.CredJWTAuth, spec.CredOAuth2}
	}
	// badgeOf lets "badge" take a page's Badge or, from a template not
	// moved to it yet, a bare state, drawn as it came.
	funcs["badgeOf"] = func(v any) stateBadge {
		switch b := v.(type) {
		case stateBadge:
			return b
		case string:
			return stateBadge{State: b, Text: b}
		}
		return stateBadge{}
	}
}
