package hmacauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// DefaultMaxReqBody bounds the body read for a digest (APISIX's default).
const DefaultMaxReqBody = 512 << 10

// HeaderDigest carries the body's digest: "SHA-256=<base64 of SHA-256>".
const HeaderDigest = "Digest"

// digestConfig compiles validate_request_body (default true) and
// max_req_body.
func (f *Filter) digestConfig(cfg Config) error {
	if cfg.MaxReqBody < 0 {
		return errors.New("max_req_body: must not be negative")
	}
	if cfg.ValidateRequestBody != nil && !*cfg.ValidateRequestBody {
		if cfg.MaxReqBody != 0 {
			return errors.New("max_req_body: only with validate_request_body")
		}
		return nil
	}
	f.maxBody = cfg.MaxReqBody
	if f.maxBody == 0 {
		f.maxBody = DefaultMaxReqBody
	}
	return nil
}

// hasBody reports whether the request's body must match a digest: it has
// one (declared or chunked), or it says it has one with a Digest header —
// a signed digest with its body taken away is a changed request too.
func (f *Filter) hasBody(ex *plugin.Exchange) bool {
	return ex.ContentLength() != 0 || ex.Header(HeaderDigest) != ""
}

// checkDigest answers (stop true) a request whose body does not match its
// Digest header: 401 when the header is missing, unsigned (a Digest
// outside the signature proves nothing: whoever changes the body changes
// it too) or wrong, 413 when the body is larger than max_req_body. The
// body still goes upstream after it was read.
func (f *Filter) checkDigest(ex *plugin.Exchange, signed string) bool {
	want, ok := sha256Digest(ex.Header(HeaderDigest))
	if !ok || !signs(signed, HeaderDigest) {
		return consumer.Unauthorized(ex)
	}
	body, err := ex.Body(f.maxBody)
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge):
		ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this route allows")
		return true
	case err != nil:
		ex.Reject(http.StatusBadRequest, "bad_request", "the request body could not be read")
		return true
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return consumer.Unauthorized(ex)
	}
	return false
}

// sha256Digest finds the SHA-256 value of a Digest header, which may list
// several "algorithm=base64" values separated by commas (RFC 3230 §4.3.2;
// algorithm names are case-insensitive).
func sha256Digest(h string) (sum [sha256.Size]byte, ok bool) {
	for h != "" {
		var item string
		item, h, _ = strings.Cut(h, ",")
		alg, val, found := strings.Cut(strings.TrimSpace(item), "=")
		if !found || !strings.EqualFold(alg, "SHA-256") {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) != base64.StdEncoding.EncodedLen(sha256.Size) {
			return sum, false
		}
		var buf [sha256.Size + 2]byte // DecodedLen of 44 characters is 33
		n, err := base64.StdEncoding.Decode(buf[:], []byte(val))
		if err != nil || n != sha256.Size {
			return sum, false
		}
		copy(sum[:], buf[:n])
		return sum, true
	}
	return sum, false
}

// signs reports whether the signed-header list names header.
func signs(signed, header string) bool {
	for name := range splitNames(signed) {
		if strings.EqualFold(name, header) {
			return true
		}
	}
	return false
}
