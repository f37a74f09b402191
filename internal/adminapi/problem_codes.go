package adminapi

import (
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

// Problem codes: one stable word per problem type, so that a client (the
// console above all) can say what went wrong in its own language without
// parsing the English detail. The type URN stays for clients that branch
// on it; the code is the same fact in a form that reads as a message key.
var problemCodes = map[string]string{
	typeValidation:   "invalid_field",
	typeUnauthorized: "unauthorized",
	typeNotFound:     "not_found",
	typeMethod:       "method_not_allowed",
	typeConflict:     "conflict",
	typeState:        "invalid_state",
	typeTooLarge:     "too_large",
	typeInternal:     "internal",
	typeForbidden:    "forbidden",
	typeTooMany:      "rate_limited",
	typeUnavailable:  "unavailable",
}

// Field reason codes (a field error's "code"). "invalid" is every
// refusal the words below do not describe: its message is the reason.
const (
	reasonRequired     = "required"
	reasonTooLong      = "too_long"
	reasonTooShort     = "too_short"
	reasonOutOfRange   = "out_of_range"
	reasonNotAllowed   = "not_allowed"
	reasonUnknownField = "unknown_field"
	reasonDuplicate    = "duplicate"
	reasonMalformed    = "malformed"
	reasonNotFound     = "not_found"
	reasonInvalid      = "invalid"
)

// fieldReasons map the wording validators use to a reason code, first
// match wins. The validators live in many packages (spec, openapi,
// compose, decode) and write plain sentences; classifying their wording
// here keeps the codes in one place instead of a code argument at each of
// several hundred call sites. A new wording falls to "invalid", which
// clients show as the message itself: nothing is lost, only untranslated.
var fieldReasons = []struct{ reason, phrase string }{
	{reasonUnknownField, "is not a known field"},
	{reasonUnknownField, "is not a query parameter"},
	{reasonRequired, "is required"},
	{reasonTooLong, "must be at most"},
	{reasonTooLong, "is longer than"},
	{reasonTooLong, "is larger than"},
	{reasonTooLong, "must hold at most"},
	{reasonTooShort, "characters long"},
	{reasonTooShort, "characters;"},
	{reasonTooShort, "characters ("},
	{reasonOutOfRange, "must be between"},
	{reasonOutOfRange, "must be an integer between"},
	{reasonOutOfRange, "must be at least"},
	{reasonOutOfRange, "must not be negative"},
	{reasonNotAllowed, "must be one of"},
	{reasonNotAllowed, "is not accepted"},
	{reasonNotAllowed, "must be empty"},
	{reasonDuplicate, "is listed twice"},
	{reasonDuplicate, "is named twice"},
	{reasonDuplicate, "times; give it once"},
	{reasonMalformed, "malformed"},
	{reasonMalformed, "invalid JSON"},
	{reasonNotFound, "does not exist"},
	{reasonNotFound, "not found"},
}

// fieldReason is the reason code of a field error's message.
func fieldReason(message string) string {
	for _, r := range fieldReasons {
		if strings.HasPrefix(message, r.phrase) || strings.Contains(message, " "+r.phrase) {
			return r.reason
		}
	}
	return reasonInvalid
}

// withCodes fills the problem's code and its field errors' codes. The
// field errors are copied: they belong to the error being answered.
func (p *problem) withCodes() {
	if p.Code == "" {
		p.Code = problemCodes[p.Type]
	}
	if len(p.Errors) == 0 {
		return
	}
	fe := make([]spec.FieldError, len(p.Errors))
	for i, e := range p.Errors {
		if e.Code == "" {
			e.Code = fieldReason(e.Message)
		}
		fe[i] = e
	}
	p.Errors = fe
}
