package webpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/adminapi"
)

// API calls the admin API's handler in process with a user's token, so
// that every permission check, validation and audit event of a page stays
// in the admin API.
type API struct {
	Handler http.Handler // the admin API handler (serves /api/v1/…)
	// MaxAnswer bounds the bytes of an answer a page takes; a larger one
	// is an error, not shown. 0 sets no bound.
	MaxAnswer int
	// ForwardBrowser hands the browser's TLS state and User-Agent on to
	// the admin API, which keeps the User-Agent with a session it starts.
	ForwardBrowser bool
}

// Call sends one request to the admin API as the user of token ("" before
// sign-in), on behalf of the browser's request r: the admin API sees the
// browser's address (it throttles sign-in by client address). body is
// JSON-encoded unless it is []byte (sent as is, application/octet-stream);
// out, when not nil, receives the JSON answer, or the raw bytes when it is
// a *[]byte. An answer of 400 or more is a *Refusal. The Answer is nil only
// when the request could not be made.
func (a API) Call(r *http.Request, token, method, path string, body, out any) (*Answer, error) {
	var rd io.Reader = http.NoBody
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
		ctype = "application/octet-stream"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	ar, err := http.NewRequestWithContext(r.Context(), method, adminapi.Prefix+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	ar.RemoteAddr = r.RemoteAddr
	ar.Header.Set("Content-Type", ctype)
	ar.Header.Set("Accept", "application/json")
	if a.ForwardBrowser {
		ar.TLS = r.TLS
		if ua := r.Header.Get("User-Agent"); ua != "" {
			ar.Header.Set("User-Agent", ua)
		}
	}
	if token != "" {
		ar.Header.Set("Authorization", "Bearer "+token)
	}
	rec := &recorder{h: http.Header{}}
	a.Handler.ServeHTTP(rec, ar)
	ans := &Answer{Status: rec.status, Header: rec.h, body: rec.body.Bytes()}
	if ans.Status == 0 {
		ans.Status = http.StatusOK
	}
	if ans.Status >= 400 {
		return ans, refusalOf(ans)
	}
	if a.MaxAnswer > 0 && len(ans.body) > a.MaxAnswer {
		return ans, fmt.Errorf("%s %s: answer of %d bytes is too large to show", method, path, len(ans.body))
	}
	if out != nil && ans.Status != http.StatusNoContent {
		if p, ok := out.(*[]byte); ok {
			*p = ans.body
			return ans, nil
		}
		if err := json.Unmarshal(ans.body, out); err != nil {
			return ans, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return ans, nil
}

// Answer is the admin API's answer to one Call.
type Answer struct {
	Status int
	Header http.Header
	body   []byte
}

// Decode reads the answer's body as JSON into out: the extension members
// of a refusal (the URLs a change would move) that Refusal does not keep.
func (a *Answer) Decode(out any) error {
	if a == nil {
		return fmt.Errorf("no answer")
	}
	return json.Unmarshal(a.body, out)
}

// RetryAfter is the whole seconds a 429 asks the browser to wait, "60"
// when the answer names none: a throttled sign-in page says it and sends
// it on as its own Retry-After.
func (a *Answer) RetryAfter() string {
	if a == nil {
		return "60"
	}
	after := a.Header.Get("Retry-After")
	if _, err := strconv.Atoi(after); err != nil {
		return "60"
	}
	return after
}

// Refusal is an admin API refusal (problem+json), kept whole so that a
// page can show its detail and each field's message beside its field.
// Pages make their own for refusals of a form they check themselves.
type Refusal struct {
	Status int
	Title  string
	Detail string
	// Fields maps a field, and its base name ("upstream" of
	// "upstream.nodes[0].host"), to its first message.
	Fields map[string]string
	// Code is the problem's stable code ("conflict", "invalid_field"),
	// empty for a refusal a page made itself: a page translates by it.
	Code string
	// Problems are the field errors in the order the admin API gave
	// them, each with its reason code ("required", "too_long").
	Problems []FieldProblem
	// APIDetail is the admin API's own detail once a page has put Detail
	// in the user's words: the specifics (which name is taken) are there.
	APIDetail string
}

// FieldProblem is one field error of a refusal.
type FieldProblem struct {
	Field, Message, Code string
}

// SetFields replaces the field errors (a page's translation of them) and
// rebuilds Fields from them.
func (e *Refusal) SetFields(problems []FieldProblem) {
	e.Problems, e.Fields = problems, map[string]string{}
	for _, fe := range problems {
		if _, ok := e.Fields[fe.Field]; !ok {
			e.Fields[fe.Field] = fe.Message
		}
		base := fe.Field
		if i := strings.IndexAny(base, ".["); i > 0 {
			base = base[:i]
		}
		if _, ok := e.Fields[base]; !ok {
			e.Fields[base] = fe.Message
		}
	}
}

func (e *Refusal) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

// maxPlainDetail bounds the detail taken from a refusal that is not
// problem+json.
const maxPlainDetail = 500

func refusalOf(ans *Answer) *Refusal {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"errors"`
	}
	e := &Refusal{Status: ans.Status, Fields: map[string]string{}}
	if json.Unmarshal(ans.body, &p) != nil {
		e.Title, e.Detail = http.StatusText(ans.Status), strings.TrimSpace(string(ans.body))
		if len(e.Detail) > maxPlainDetail {
			e.Detail = e.Detail[:maxPlainDetail]
		}
		return e
	}
	e.Title, e.Detail, e.Code = p.Title, p.Detail, p.Code
	problems := make([]FieldProblem, len(p.Errors))
	for i, fe := range p.Errors {
		problems[i] = FieldProblem{Field: fe.Field, Message: fe.Message, Code: fe.Code}
	}
	e.SetFields(problems)
	if e.Detail == "" && len(p.Errors) > 0 {
		e.Detail = p.Errors[0].Field + ": " + p.Errors[0].Message
	}
	return e
}

// recorder is the minimal http.ResponseWriter the admin API's handler
// writes an answer to in process.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// List is the admin API's answer to a list request: one page of items and
// how many there are in all.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}
