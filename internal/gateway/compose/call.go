package compose

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// buildCall evaluates a step's expressions into the call it sends.
func (r *run) buildCall(ev *evaluator, s *step, env map[string]any, spanID [8]byte) (*Call, error) {
	c := &Call{
		Step:      s.name,
		Method:    s.method,
		Service:   s.service,
		Route:     s.route,
		Client:    r.in.Client,
		RequestID: r.in.RequestID + "." + s.name,
	}
	if r.in.TraceID != "" && validTraceID(r.in.TraceID) {
		c.TraceParent = "00-" + r.in.TraceID + "-" + hex.EncodeToString(spanID[:]) + "-01"
	}

	params := make(map[string]string, len(s.params))
	for _, p := range s.params {
		v, err := ev.eval(p.prog, env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.field, err)
		}
		if v == nil {
			continue
		}
		str, ok := scalarString(v)
		if !ok {
			return nil, fmt.Errorf("%s: must be a string, a number or a boolean, not %s", p.field, kindOf(v))
		}
		params[p.name] = str
	}
	if s.upstream {
		path, err := fillPath(s, params)
		if err != nil {
			return nil, err
		}
		c.Path = path
	} else {
		c.Params = params
	}

	if len(s.query) > 0 {
		q := make(url.Values, len(s.query))
		for _, p := range s.query {
			v, err := ev.eval(p.prog, env)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.field, err)
			}
			vals, err := queryValues(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.field, err)
			}
			if len(vals) > 0 {
				q[p.name] = vals
			}
		}
		c.Query = q.Encode()
	}

	c.Header = make(http.Header, len(s.headers)+1)
	for _, p := range s.headers {
		v, err := ev.eval(p.prog, env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.field, err)
		}
		str, ok, err := headerValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.field, err)
		}
		if ok {
			c.Header.Set(p.name, str)
		}
	}

	if s.body != nil {
		v, err := ev.eval(s.body, env)
		if err != nil {
			return nil, fmt.Errorf("%s.body: %w", s.field, err)
		}
		if v != nil {
			b, err := marshalBounded(v, MaxAnswer)
			if err != nil {
				return nil, fmt.Errorf("%s.body: %w", s.field, err)
			}
			c.Body = b
			if !s.contentType {
				c.Header.Set(headerContentType, contentTypeJSON)
			}
		}
	}
	return c, nil
}

// queryValues are a query entry's values: none for null, one per element
// of an array.
func queryValues(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := scalarString(v); ok {
		return []string{s}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a string, a number, a boolean or an array of them, not %s", kindOf(v))
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		if e == nil {
			continue
		}
		s, ok := scalarString(e)
		if !ok {
			return nil, fmt.Errorf("element %d must be a string, a number or a boolean, not %s", i, kindOf(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// headerValue is a header's value: arrays joined with ", "; ok is false
// for null. A value that could split the header (CR, LF, NUL…) is refused.
func headerValue(v any) (string, bool, error) {
	if v == nil {
		return "", false, nil
	}
	vals, err := queryValues(v)
	if err != nil {
		return "", false, err
	}
	s := strings.Join(vals, ", ")
	if len(s) > 16<<10 {
		return "", false, errors.New("the header value is longer than 16 KiB")
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return "", false, errors.New("the header value holds a control character")
		}
	}
	return s, true, nil
}

// fillPath builds an upstream call's path: each parameter escaped as one
// segment (never "." or "..", which would walk the path), the wildcard as
// segments each escaped.
func fillPath(s *step, params map[string]string) (string, error) {
	var b strings.Builder
	for _, p := range s.path {
		if p.param == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := params[p.param]
		if !ok || v == "" {
			return "", fmt.Errorf("%s.params.%s: the path parameter has no value", s.field, p.param)
		}
		if !p.wildcard {
			b.WriteString(escapeSegment(v))
			continue
		}
		for i, seg := range strings.Split(v, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escapeSegment(seg))
		}
	}
	return b.String(), nil
}

func escapeSegment(v string) string {
	switch v {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(v)
}

func validTraceID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
