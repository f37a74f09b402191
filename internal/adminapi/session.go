package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
)

// SessionCookie names the cookie the console keeps its login token in. The
// admin API accepts it in place of a bearer token (PRODUCT §4), so the
// console and scripts share one authentication path.
const SessionCookie = "portico_session"

// CSRFHeader carries the CSRF token of a cookie-authenticated change.
const CSRFHeader = "X-CSRF-Token"

// errCSRF marks a cookie-authenticated change without a valid CSRF token.
var errCSRF = errors.New("missing or wrong CSRF token")

// CSRFToken derives the CSRF token of a session token. It is a one-way
// function of a secret only the session's browser holds (the cookie is
// HttpOnly), so another site can neither read nor compute it, and nothing
// has to be stored beside the session.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("portico-csrf\x00" + sessionToken))
	return hex.EncodeToString(sum[:16])
}

// ValidCSRF compares a presented CSRF token with the session's in constant time.
func ValidCSRF(sessionToken, presented string) bool {
	want := CSRFToken(sessionToken)
	return subtle.ConstantTimeCompare([]byte(want), []byte(presented)) == 1
}

// requestToken is the login token of r: the bearer token, else the session
// cookie. A cookie-authenticated request that changes something must carry
// the CSRF header, because browsers send cookies on cross-site requests too.
func requestToken(r *http.Request) (string, error) {
	if tok, ok := bearer(r); ok {
		return tok, nil
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return "", errUnauthorized
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !ValidCSRF(ck.Value, r.Header.Get(CSRFHeader)) {
			return "", errCSRF
		}
	}
	return ck.Value, nil
}
