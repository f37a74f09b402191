package requestvalidation

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// body is an operation's compiled requestBody.
type body struct {
	required bool
	media    []media // declared media types, exact ones first
	any      bool    // */* is declared: every media type is accepted
	declared string  // the declared media types, for the 415's message
}

// media is one declared media type: "application/json", "text/*".
type media struct {
	name   string // lower case, without parameters; "text/*" for a range
	prefix bool   // a range: name is "type/*"
	json   bool   // its body is JSON (application/json, …+json)
	schema *openapi3.Schema
}

func compileBody(rb *openapi3.RequestBody) *body {
	b := &body{required: rb.Required}
	names := make([]string, 0, len(rb.Content))
	for name := range rb.Content {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		mt := rb.Content[name]
		m := media{name: strings.ToLower(mediaTypeOf(name))}
		if mt != nil && mt.Schema != nil {
			m.schema = mt.Schema.Value
		}
		switch {
		case m.name == "*/*":
			b.any = true
			m.prefix = true
		case strings.HasSuffix(m.name, "/*"):
			m.prefix = true
		}
		m.json = isJSON(m.name)
		b.media = append(b.media, m)
	}
	// Exact names before ranges, ranges before */*: the closest
	// declaration describes the body.
	slices.SortStableFunc(b.media, func(x, y media) int { return rank(x) - rank(y) })
	b.declared = strings.Join(names, ", ")
	if len(b.media) == 0 {
		b.any = true // a body without declared content: any is fine
	}
	return b
}

func rank(m media) int {
	switch {
	case m.name == "*/*":
		return 2
	case m.prefix:
		return 1
	}
	return 0
}

// isJSON reports whether a media type's body is JSON.
func isJSON(name string) bool {
	return name == "application/json" || strings.HasSuffix(name, "+json")
}

// find is the declaration a request's Content-Type matches, or nil.
func (b *body) find(ct string) *media {
	mt := mediaTypeOf(ct)
	for i := range b.media {
		m := &b.media[i]
		if m.prefix {
			if m.name == "*/*" || (len(mt) > len(m.name)-1 && strings.EqualFold(mt[:len(m.name)-1], m.name[:len(m.name)-1])) {
				return m
			}
			continue
		}
		if strings.EqualFold(mt, m.name) {
			return m
		}
	}
	return nil
}

// unsupported is the 415's message.
func (b *body) unsupported(ct string) string {
	mt := mediaTypeOf(ct)
	if mt == "" {
		return "the request body has no Content-Type; the route takes " + b.declared
	}
	if len(mt) > 100 {
		mt = mt[:100] + "…"
	}
	return "the route does not take " + mt + " bodies; it takes " + b.declared
}

// decodeJSON reads one JSON value; anything after it is an error.
func decodeJSON(data []byte) (any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}
