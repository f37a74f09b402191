package reqpolicy

// IsIdentityHeader reports whether a client header named name claims an
// identity only the gateway may state, and so never reaches a backend:
// X-Consumer-* (set by the authentication plugins), and the underscore
// spellings of X-Consumer-* and of the headers the gateway sets itself
// (X-Forwarded-For, -Host, -Proto, X-Request-Id, X-Real-Ip). CGI, WSGI,
// PHP and similar stacks read "X_Consumer_Id" and "X-Consumer-Id" as the
// same variable, so an underscore spelling would pass for the gateway's.
func IsIdentityHeader[T string | []byte](name T) bool {
	if len(name) < 9 || lower(name[0]) != 'x' || (name[1] != '-' && name[1] != '_') {
		return false
	}
	if hasPrefixFoldDash(name, "x-consumer-") {
		return true
	}
	underscore := false
	for i := range len(name) {
		if name[i] == '_' {
			underscore = true
			break
		}
	}
	if !underscore {
		return false
	}
	for _, h := range gatewayHeaders {
		if len(h) == len(name) && hasPrefixFoldDash(name, h) {
			return true
		}
	}
	return false
}

// gatewayHeaders are the request headers the gateway sets or replaces.
var gatewayHeaders = []string{"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-request-id", "x-real-ip"}

// hasPrefixFoldDash reports whether name starts with prefix (lower case,
// dashes), comparing case-insensitively and reading '_' as '-'.
func hasPrefixFoldDash[T string | []byte](name T, prefix string) bool {
	if len(name) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		c := lower(name[i])
		if c == '_' {
			c = '-'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
