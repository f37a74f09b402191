package oauth2

import (
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// TokenRequest is a parsed client credentials token request (RFC 6749
// §4.4.2) with the client's authentication (§2.3.1).
type TokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	// Basic is true when the client authenticated with HTTP Basic.
	Basic bool
}

// Error is a token endpoint error (RFC 6749 §5.2), answered as
// {"error": Code, "error_description": Description} with Status.
type Error struct {
	Status      int
	Code        string
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// The errors the endpoint answers. Descriptions never say which part of a
// client's credentials was wrong.
var (
	errMalformed    = &Error{http.StatusBadRequest, "invalid_request", "the request is malformed"}
	errContentType  = &Error{http.StatusBadRequest, "invalid_request", "a POST must be application/x-www-form-urlencoded"}
	errRepeated     = &Error{http.StatusBadRequest, "invalid_request", "a parameter is repeated"}
	errTwoMethods   = &Error{http.StatusBadRequest, "invalid_request", "the client authenticated in more than one way"}
	errNoGrant      = &Error{http.StatusBadRequest, "invalid_request", "grant_type is missing"}
	errGrant        = &Error{http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported"}
	errTooLarge     = &Error{http.StatusRequestEntityTooLarge, "invalid_request", "the request body is too large"}
	errClient       = &Error{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
	errServer       = &Error{http.StatusInternalServerError, "server_error", "the token could not be issued"}
	errUnreadable   = &Error{http.StatusBadRequest, "invalid_request", "the request body could not be read"}
	errNotConfigure = &Error{http.StatusServiceUnavailable, "temporarily_unavailable", "the token endpoint is not ready"}
)

// maxField bounds a client id or secret; longer ones are refused like
// wrong ones.
const maxField = 256

// ParseTokenRequest reads a token request. A POST carries its parameters
// in an application/x-www-form-urlencoded body (its query is ignored: RFC
// 6749 forbids secrets in the URI); a GET (as some clients send it) carries
// them in the query. The client authenticates with client_id and
// client_secret parameters or with HTTP Basic, not both. It never panics
// on any input.
func ParseTokenRequest(method, contentType, authorization, rawQuery string, body []byte) (TokenRequest, *Error) {
	var req TokenRequest
	var raw string
	switch method {
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return req, errContentType
		}
		raw = string(body)
	case http.MethodGet:
		raw = rawQuery
	default:
		return req, errMalformed
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		return req, errMalformed
	}
	one := func(name string) (string, bool) {
		v := params[name]
		if len(v) > 1 {
			return "", false
		}
		if len(v) == 0 {
			return "", true
		}
		return v[0], true
	}
	var ok [3]bool
	req.GrantType, ok[0] = one("grant_type")
	req.ClientID, ok[1] = one("client_id")
	req.ClientSecret, ok[2] = one("client_secret")
	if !ok[0] || !ok[1] || !ok[2] {
		return req, errRepeated
	}
	if authorization != "" {
		req.Basic = true
		id, secret, good := parseBasic(authorization)
		if !good {
			return req, errClient
		}
		if req.ClientSecret != "" || (req.ClientID != "" && req.ClientID != id) {
			return req, errTwoMethods
		}
		req.ClientID, req.ClientSecret = id, secret
	}
	switch {
	case req.GrantType == "":
		return req, errNoGrant
	case req.GrantType != "client_credentials":
		return req, errGrant
	case req.ClientID == "" || req.ClientSecret == "" || len(req.ClientID) > maxField || len(req.ClientSecret) > maxField:
		return req, errClient
	}
	return req, nil
}

// parseBasic decodes "Basic base64(id:secret)", where id and secret are
// form-encoded (RFC 6749 §2.3.1); a client that did not encode them is
// taken as it sent them.
func parseBasic(h string) (id, secret string, ok bool) {
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) || len(h) > 4*maxField {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(b), ":")
	if !ok {
		return "", "", false
	}
	if u, err := url.QueryUnescape(id); err == nil {
		id = u
	}
	if u, err := url.QueryUnescape(secret); err == nil {
		secret = u
	}
	return id, secret, true
}
