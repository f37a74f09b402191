// Package adminclient is a client of Portico's admin API (/api/v1), used
// by `portico ctl` and tests. It speaks JSON and turns problem+json
// answers into *Error.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one admin API.
type Client struct {
	// Base is the server's address, e.g. http://localhost:9180.
	Base  string
	Token string
	HTTP  *http.Client
}

// New returns a client of the server at base with a bearer token.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// FieldError is one entry of a validation problem.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a problem+json answer (RFC 9457) of the admin API.
type Error struct {
	Status int          `json:"status"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors,omitempty"`
	// Extra members (conflicts, changes, allowed actions, …) as sent.
	Raw json.RawMessage `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	fmt.Fprintf(&b, "%d: %s", e.Status, msg)
	for _, f := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Request is one call: a JSON body (Body, marshalled) or a raw one
// (RawBody with ContentType), query parameters and where to decode the
// answer (Out: JSON; or RawOut, the bytes as sent).
type Request struct {
	Method      string
	Path        string // under /api/v1, e.g. /projects/default/services
	Query       url.Values
	Body        any
	RawBody     []byte
	ContentType string
	Accept      string
	Out         any
	RawOut      *[]byte
}

// Do sends r and decodes the answer.
func (c *Client) Do(ctx context.Context, r Request) error {
	var body io.Reader
	ct := r.ContentType
	switch {
	case r.RawBody != nil:
		body = bytes.NewReader(r.RawBody)
	case r.Body != nil:
		b, err := json.Marshal(r.Body)
		if err != nil {
			return fmt.Errorf("encode request body: %w", err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	u := c.Base + "/api/v1" + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", r.Method, r.Path, err)
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode, Raw: b}
		if json.Unmarshal(b, e) != nil || (e.Detail == "" && e.Title == "") {
			e.Title = strings.TrimSpace(string(b))
			if e.Title == "" {
				e.Title = resp.Status
			}
		}
		e.Status = resp.StatusCode
		return e
	}
	if r.RawOut != nil {
		*r.RawOut = b
	}
	if r.Out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, r.Out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", r.Method, r.Path, err)
		}
	}
	return nil
}

// Get, Post and Patch are Do for JSON calls.
func (c *Client) Get(ctx context.Context, path string, q url.Values, out any) error {
	return c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: q, Out: out})
}

func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	return c.Do(ctx, Request{Method: http.MethodPost, Path: path, Body: body, Out: out})
}

func (c *Client) Patch(ctx context.Context, path string, body, out any) error {
	return c.Do(ctx, Request{Method: http.MethodPatch, Path: path, Body: body, Out: out})
}

// Login exchanges a username and password for a token, kept in c.
func (c *Client) Login(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.Post(ctx, "/auth/login", map[string]string{"username": username, "password": password}, &out); err != nil {
		return "", fmt.Errorf("log in as %s: %w", username, err)
	}
	if out.Token == "" {
		return "", fmt.Errorf("log in as %s: the answer has no token", username)
	}
	c.Token = out.Token
	return out.Token, nil
}

// List is a page of a list answer.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// ServicePath is the admin path of a service (by id or name) of a project.
func ServicePath(project, service string) string {
	return "/projects/" + url.PathEscape(project) + "/services/" + url.PathEscape(service)
}
