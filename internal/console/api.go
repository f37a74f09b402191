package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/internal/adminapi"
)

// apiError is an admin API refusal (problem+json), kept whole so pages can
// show the detail and each field's message beside its field.
type apiError struct {
	Status int
	Title  string
	Detail string
	Fields map[string]string // field (and its base name, "upstream" of "upstream.nodes[0].host") → message
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

// recorder is a minimal in-process http.ResponseWriter.
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

// call sends one request to the admin API handler in process with the
// user's token. body is JSON-encoded unless it is []byte; out, when not
// nil, receives the JSON answer.
func (q *req) call(method, path string, body, out any) error {
	_, err := q.c.do(q.r, q.token, method, path, body, out)
	return err
}

// do is call without a page: the login page uses it before a session exists.
func (c *Console) do(r *http.Request, token, method, path string, body, out any) (*recorder, error) {
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
	if token != "" {
		ar.Header.Set("Authorization", "Bearer "+token)
	}
	rec := &recorder{h: http.Header{}}
	c.api.ServeHTTP(rec, ar)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		return rec, problemOf(rec)
	}
	if out != nil && rec.status != http.StatusNoContent {
		if p, ok := out.(*[]byte); ok {
			*p = rec.body.Bytes()
			return rec, nil
		}
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return rec, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return rec, nil
}

func problemOf(rec *recorder) *apiError {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	e := &apiError{Status: rec.status, Fields: map[string]string{}}
	if json.Unmarshal(rec.body.Bytes(), &p) != nil {
		e.Title, e.Detail = http.StatusText(rec.status), strings.TrimSpace(rec.body.String())
		return e
	}
	e.Title, e.Detail = p.Title, p.Detail
	for _, fe := range p.Errors {
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
	return e
}
