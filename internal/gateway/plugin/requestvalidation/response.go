package requestvalidation

import (
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The notes a response check leaves in the call's record (constants: the
// record is written after the filter returned).
const (
	noteStatus      = "response_invalid: the status is not among the operation's responses"
	noteContentType = "response_invalid: the content type is not among the response's"
)

// responses are an operation's declared answers by status: a code, a
// range ("2XX") or default.
type responses struct {
	byCode  map[int]*body
	byRange [6]*body // index: the status's first digit
	def     *body
}

// compileResponses reads what an operation answers; a response's content
// map is compiled like a request body's (its media types matter, not its
// schema: the answer's body streams past the gateway).
func compileResponses(rs *openapi3.Responses) *responses {
	out := &responses{byCode: map[int]*body{}}
	if rs == nil {
		return out
	}
	for code, ref := range rs.Map() {
		if ref == nil || ref.Value == nil {
			continue
		}
		b := compileBody(&openapi3.RequestBody{Content: ref.Value.Content})
		switch {
		case code == "default":
			out.def = b
		case len(code) == 3 && (code[1] == 'X' || code[1] == 'x') && (code[2] == 'X' || code[2] == 'x') && code[0] >= '1' && code[0] <= '5':
			out.byRange[code[0]-'0'] = b
		default:
			if n, err := strconv.Atoi(code); err == nil {
				out.byCode[n] = b
			}
		}
	}
	return out
}

// check is the note for an answer with status and content type ct, or ""
// when the operation declares it.
func (r *responses) check(status int, ct string) string {
	b := r.byCode[status]
	if b == nil && status >= 100 && status < 600 {
		b = r.byRange[status/100]
	}
	if b == nil {
		b = r.def
	}
	if b == nil {
		return noteStatus
	}
	if b.any || strings.TrimSpace(ct) == "" && status == 204 {
		return ""
	}
	if b.find(ct) == nil {
		return noteContentType
	}
	return ""
}
