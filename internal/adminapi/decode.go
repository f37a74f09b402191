package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// readBody reads the whole body within the size limit. Bodies are JSON
// whatever the Content-Type says: curl -d sends form encoding and the
// documented curl tour must work.
func (c *call) readBody() ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.s.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, withDetail(errTooLarge, "the request body is larger than %d bytes", c.s.maxBody)
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

// decode reads the body strictly into v: exactly one JSON value, no unknown
// fields, every failure a 400 naming the field.
func (c *call) decode(v any) error {
	b, err := c.readBody()
	if err != nil {
		return err
	}
	return strictDecode(b, v)
}

// decodeError turns an encoding/json error into field errors.
func decodeError(err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			field = "body"
		}
		_, kind := kindOf(te.Type)
		return fieldError(field, "must be %s, not %s", kind.want(), te.Value)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fieldError("body", "malformed JSON at byte %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fieldError("body", "malformed JSON: unexpected end of input")
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, uerr := strconv.Unquote(name); uerr == nil {
			name = f
		}
		return fieldError(name, "is not a known field")
	}
	return fieldError("body", "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// decodeUpdate decodes the body of a PUT (patch false: the whole object)
// or a PATCH (an RFC 7396 JSON merge patch applied onto old). The merged
// document is strictly decoded, so unknown fields and wrong types in a patch
// are named like in a POST.
func decodeUpdate[T any](body []byte, patch bool, old T) (T, error) {
	var out T
	if !patch {
		return out, strictDecode(body, &out)
	}
	p, err := parseJSON(body)
	if err != nil {
		return out, err
	}
	if _, ok := p.(map[string]any); !ok {
		return out, fieldError("body", "a merge patch must be a JSON object")
	}
	orig, err := json.Marshal(old)
	if err != nil {
		return out, fmt.Errorf("patch: marshal stored object: %w", err)
	}
	doc, err := parseJSON(orig)
	if err != nil {
		return out, fmt.Errorf("patch: parse stored object: %w", err)
	}
	merged, err := json.Marshal(mergePatch(doc, p))
	if err != nil {
		return out, fmt.Errorf("patch: marshal merged object: %w", err)
	}
	return out, strictDecode(merged, &out)
}

// mergePatch implements RFC 7396: objects merge recursively, null removes a
// member, anything else replaces the target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// listResult is the answer of every list endpoint.
type listResult struct {
	Items any `json:"items"`
	Total int `json:"total"`
}

// list wraps items (a slice) so that a nil slice is sent as [].
func list[T any](items []T, total int) listResult {
	if items == nil {
		items = []T{}
	}
	return listResult{Items: items, Total: total}
}

// maxPage bounds ?page= so that the offset (page-1)*page_size cannot
// overflow, here or in the store.
const maxPage = 1_000_000

// listQuery reads page, page_size and q.
func (c *call) listQuery() (store.ListQuery, error) {
	q := store.ListQuery{Page: 1, PageSize: 20, Q: c.r.URL.Query().Get("q")}
	var fe spec.FieldErrors
	if v := c.r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			fe.Add("page", "must be an integer between 1 and %d", maxPage)
		}
		q.Page = n
	}
	if v := c.r.URL.Query().Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			fe.Add("page_size", "must be an integer between 1 and 500")
		}
		q.PageSize = n
	}
	return q, fe.Err()
}

// pageOf cuts one page out of a list held in memory, filtering by q on name.
func pageOf[T any](all []T, q store.ListQuery, name func(T) string) ([]T, int) {
	if q.Q != "" {
		var kept []T
		for _, x := range all {
			if strings.Contains(strings.ToLower(name(x)), strings.ToLower(q.Q)) {
				kept = append(kept, x)
			}
		}
		all = kept
	}
	total := len(all)
	if q.Page < 1 || q.PageSize < 1 || q.Page-1 >= (total+q.PageSize-1)/q.PageSize {
		return []T{}, total // past the end; compared by pages so nothing overflows
	}
	start := (q.Page - 1) * q.PageSize
	end := min(start+q.PageSize, total)
	return all[start:end], total
}

// noBody refuses a body on an endpoint that takes none: empty, {} and null
// pass; anything else is a 400 naming each member sent (or the body, when
// it is not an object), so nothing is accepted and ignored. wrap calls it
// for every endpoint without a request type that does not read its body
// itself (rawBody).
func (c *call) noBody() error {
	b, err := c.readBody()
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	doc, err := parseJSON(b)
	if err != nil {
		return fieldError("body", "must be empty: this endpoint takes no body")
	}
	var fe spec.FieldErrors
	switch v := doc.(type) {
	case nil:
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			fe.Add(k, "is not accepted: this endpoint takes no body")
		}
	default:
		fe.Add("body", "must be empty: this endpoint takes no body")
	}
	return fe.Err()
}

// checkQuery refuses query parameters the endpoint does not read, a
// parameter given twice that is not repeatable, and a query string that
// does not parse: a typo such as ?dryrun=true must not run the real thing.
func checkQuery(ep endpoint, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fieldError("query", "is malformed: %v", err)
	}
	var fe spec.FieldErrors
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(ep.query, name) && ep.providerQuery:
			// The provider's own parameter: nothing of ours to check.
		case !slices.Contains(ep.query, name):
			takes := "takes no query parameters"
			if len(ep.query) > 0 {
				takes = "takes " + strings.Join(ep.query, ", ")
			}
			fe.Add(name, "is not a query parameter of %s %s (it %s)", ep.method, Prefix+ep.path, takes)
		case len(q[name]) > 1 && !queryParams[name].explode:
			fe.Add(name, "is given %d times; give it once", len(q[name]))
		}
	}
	return fe.Err()
}
