package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/internal/adminapi"
)

// The portal is a client of the admin API like the console: every page
// calls the admin API's handler in process with the signed-in user's
// token, so every permission check, validation and audit event stays in
// one place. This file copies the console's small call pattern rather
// than importing the console (the two front ends must not depend on each
// other).

// apiError is an admin API refusal (problem+json), kept whole so pages can
// show the detail and each field's message beside its field.
type apiError struct {
	Status int
	Title  string
	Detail string
	Fields map[string]string // field (and its base name) → message
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

// maxAnswer bounds what the portal reads of one admin API answer: an
// OpenAPI document is the largest; anything bigger is refused rather than
// rendered.
const maxAnswer = 16 << 20

// do sends one request to the admin API handler in process with token
// ("" before sign-in). body is JSON-encoded; out, when not nil, receives
// the JSON answer (or the raw bytes when it is a *[]byte).
func (p *Portal) do(r *http.Request, token, method, path string, body, out any) (*recorder, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	ar, err := http.NewRequestWithContext(r.Context(), method, adminapi.Prefix+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	// The admin API throttles sign-in by client address: it must see the
	// browser's, not the portal's.
	ar.RemoteAddr = r.RemoteAddr
	ar.TLS = r.TLS
	ar.Header.Set("Content-Type", "application/json")
	ar.Header.Set("Accept", "application/json")
	if ua := r.Header.Get("User-Agent"); ua != "" {
		ar.Header.Set("User-Agent", ua)
	}
	if token != "" {
		ar.Header.Set("Authorization", "Bearer "+token)
	}
	rec := &recorder{h: http.Header{}}
	p.api.ServeHTTP(rec, ar)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		return rec, problemOf(rec)
	}
	if rec.body.Len() > maxAnswer {
		return rec, fmt.Errorf("%s %s: answer of %d bytes is too large to show", method, path, rec.body.Len())
	}
	if out != nil && rec.status != http.StatusNoContent {
		if b, ok := out.(*[]byte); ok {
			*b = rec.body.Bytes()
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
		if len(e.Detail) > 500 {
			e.Detail = e.Detail[:500]
		}
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
	if e.Detail == "" && len(p.Errors) > 0 {
		e.Detail = p.Errors[0].Field + ": " + p.Errors[0].Message
	}
	return e
}

// listOf is the admin API's list answer.
type listOf[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}
