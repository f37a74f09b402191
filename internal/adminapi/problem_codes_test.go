package adminapi

import (
	"errors"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// The field reason codes come from the validators' wording; each row is a
// message a validator writes today.
func TestFieldReason(t *testing.T) {
	for _, tc := range []struct{ message, want string }{
		{"is required", reasonRequired},
		{"is required with type composite: the steps and the response", reasonRequired},
		{"must be at most 64 characters", reasonTooLong},
		{"is longer than 100 bytes", reasonTooLong},
		{"must hold at most 10 reports", reasonTooLong},
		{"must be at least 12 characters long", reasonTooShort},
		{"must be at least 16 characters (leave it out to have one generated)", reasonTooShort},
		{"must be between 1 and 65535", reasonOutOfRange},
		{"must be an integer between 1 and 500", reasonOutOfRange},
		{"must not be negative", reasonOutOfRange},
		{"must be one of http, https", reasonNotAllowed},
		{"is not accepted: this endpoint takes no body", reasonNotAllowed},
		{"is not a known field", reasonUnknownField},
		{"is not a query parameter of GET /api/v1/x (it takes q)", reasonUnknownField},
		{"is listed twice", reasonDuplicate},
		{"malformed JSON at byte 3: invalid character", reasonMalformed},
		{`upstream "u" does not exist in project "p"`, reasonNotFound},
		{"must be a header name (an RFC 9110 token)", reasonInvalid},
		{"", reasonInvalid},
	} {
		if got := fieldReason(tc.message); got != tc.want {
			t.Errorf("fieldReason(%q) = %q, want %q", tc.message, got, tc.want)
		}
	}
}

// Every problem type has a code, and the codes of a refusal's fields are
// filled on a copy: the error answered keeps its own slice untouched.
func TestProblemCodes(t *testing.T) {
	for _, typ := range []string{typeValidation, typeUnauthorized, typeNotFound, typeMethod, typeConflict,
		typeState, typeTooLarge, typeInternal, typeForbidden, typeTooMany, typeUnavailable} {
		if problemCodes[typ] == "" {
			t.Errorf("problem type %s has no code", typ)
		}
	}
	fe := spec.FieldErrors{{Field: "name", Message: "is required"}}
	p, _ := toProblem(fe)
	p.withCodes()
	if p.Code != "invalid_field" || p.Errors[0].Code != reasonRequired || fe[0].Code != "" {
		t.Errorf("codes: problem %q, field %q, original field %q", p.Code, p.Errors[0].Code, fe[0].Code)
	}
	p, _ = toProblem(withDetail(store.ErrConflict, "service %q already exists", "shop"))
	p.withCodes()
	if p.Code != "conflict" {
		t.Errorf("conflict code = %q", p.Code)
	}
	p, _ = toProblem(errors.New("boom"))
	p.withCodes()
	if p.Code != "internal" {
		t.Errorf("internal code = %q", p.Code)
	}
}
