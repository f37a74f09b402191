// Package requestvalidation checks requests against what their route
// declares in the service's OpenAPI description (request-validation
// plugin): the operation's parameters (query, path, header, cookie) and
// its request body's media type and JSON schema. A request that does not
// match is answered 400 naming every failing field, before the backend
// is called.
//
// The route's operation is compiled once per revision from the service's
// export (internal/openapi.ExportService, loaded once per service, and
// ServiceDocument.Route for the route's own operations); schemas are
// checked with kin-openapi's validator (openapi3.Schema.VisitJSON) on
// values read straight from the Exchange. openapi3filter.ValidateRequest
// is not used: it wants an *http.Request per request and, on an OpenAPI
// 3.1 document (what the export writes), compiles every schema again on
// each call (≈ 3 700 allocations for a 1 KiB body, against ≈ 290 here).
package requestvalidation

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// DefaultMaxBodyBytes is how much of a body is read to validate it when
// the configuration sets no max_body_bytes.
const DefaultMaxBodyBytes = 1 << 20

// maxBodyLimit bounds max_body_bytes: the body is held in memory whole.
const maxBodyLimit = 64 << 20

// maxFields bounds the fields one answer lists; a body with thousands of
// wrong items is answered with the first ones and a count.
const maxFields = 20

// Config is the plugin configuration. Every member has an effect; a
// configuration that validates nothing is refused.
type Config struct {
	// Body validates the request body against the operation's
	// requestBody: its media type (415 when undeclared), and a JSON
	// body's schema. Default true.
	Body *bool `json:"body,omitempty"`
	// Parameters validates the operation's query, path, header and cookie
	// parameters. Default true.
	Parameters *bool `json:"parameters,omitempty"`
	// MaxBodyBytes is the most of a body read to validate it (413 past
	// it). Default 1 MiB; only with body on.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
	// Response checks the backend's answer (status and content type)
	// against the operation's responses and notes a mismatch in the
	// access log's record of the call (error_detail); the answer is never
	// changed. Meant for the versions a project tries on its test group.
	Response bool `json:"response,omitempty"`
}

// Filter is the compiled plugin of one route.
type Filter struct {
	params   []param
	body     *body
	maxBody  int64
	response *responses
	opts     []openapi3.SchemaValidationOption
}

// responseFilter is the response half, a type of its own so that the
// route gets a response filter only when response is on.
type responseFilter struct{ r *responses }

// Document is a service's OpenAPI description without its paths (what
// internal/openapi.ExportService writes), loaded once for all the
// service's routes: their operations' $refs resolve against it.
type Document struct {
	loader *openapi3.Loader
	t      *openapi3.T
}

// LoadDocument loads a service's description (JSON). External
// references are refused, not followed.
func LoadDocument(doc []byte) (*Document, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("the service's OpenAPI description does not load: %w", err)
	}
	return &Document{loader: loader, t: t}, nil
}

// New compiles cfg for a route: paths is the route's paths object as the
// service's export writes it (internal/openapi.ServiceDocument.Route,
// JSON), d its service's document. A nil d checks cfg alone (a
// configuration saved before it is published).
func New(cfg Config, d *Document, paths []byte) (plugin.Filters, error) {
	checkBody, checkParams := on(cfg.Body), on(cfg.Parameters)
	switch {
	case !checkBody && !checkParams && !cfg.Response:
		return plugin.Filters{}, errors.New("body, parameters and response are all off: nothing would be validated")
	case cfg.MaxBodyBytes < 0 || cfg.MaxBodyBytes > maxBodyLimit:
		return plugin.Filters{}, fmt.Errorf("max_body_bytes must be between 1 and %d", maxBodyLimit)
	case cfg.MaxBodyBytes != 0 && !checkBody:
		return plugin.Filters{}, errors.New("max_body_bytes needs body on")
	}
	f := &Filter{maxBody: cfg.MaxBodyBytes,
		opts: []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.VisitAsRequest()}}
	if f.maxBody == 0 {
		f.maxBody = DefaultMaxBodyBytes
	}
	if d != nil {
		op, err := d.operation(paths)
		if err != nil {
			return plugin.Filters{}, err
		}
		if op != nil {
			if checkParams {
				if f.params, err = compileParams(op.Parameters); err != nil {
					return plugin.Filters{}, err
				}
			}
			if checkBody && op.RequestBody != nil && op.RequestBody.Value != nil {
				f.body = compileBody(op.RequestBody.Value)
			}
			if cfg.Response {
				f.response = compileResponses(op.Responses)
			}
		}
	}
	var fs plugin.Filters
	if len(f.params) > 0 || f.body != nil || d == nil {
		fs.Request = f // a route that declares nothing costs its requests nothing
	}
	if f.response != nil {
		fs.Response = responseFilter{f.response}
	}
	return fs, nil
}

func on(b *bool) bool { return b == nil || *b }

// operation resolves the route's operations against the service's
// document and answers the first path's, for the first method the
// export wrote (a route's operations differ only in their path parameters
// and operationId); nil when the route has none (offline).
func (d *Document) operation(paths []byte) (*openapi3.Operation, error) {
	var p openapi3.Paths
	if err := p.UnmarshalJSON(paths); err != nil {
		return nil, fmt.Errorf("the route's OpenAPI operation does not decode: %w", err)
	}
	// The route's own document: the service's parts shared, its paths
	// alone. Components were resolved when the service's document
	// loaded; only the operation's references are new.
	t := *d.t
	t.Paths = &p
	if err := d.loader.ResolveRefsIn(&t, nil); err != nil {
		return nil, fmt.Errorf("the route's OpenAPI operation does not load: %w", err)
	}
	for _, path := range p.InMatchingOrder() {
		item := p.Value(path)
		if item == nil {
			continue
		}
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
			http.MethodHead, http.MethodOptions, http.MethodTrace} {
			if op := item.GetOperation(m); op != nil {
				return op, nil
			}
		}
	}
	return nil, nil
}

// OnRequest answers 400 naming every failing field, 413 for a body over
// max_body_bytes and 415 for a body of an undeclared media type.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	if len(f.params) == 0 && f.body == nil {
		return false
	}
	var errs fieldErrors
	for i := range f.params {
		f.params[i].check(ex, f.opts, &errs)
	}
	if f.body != nil && f.checkBody(ex, &errs) {
		return true
	}
	if errs.n == 0 {
		return false
	}
	ex.RejectFields(http.StatusBadRequest, "request_invalid", errs.message(), errs.list)
	return true
}

// checkBody validates the body; it answers itself (true) when the body is
// too large, unreadable or of an undeclared media type.
func (f *Filter) checkBody(ex *plugin.Exchange, errs *fieldErrors) bool {
	b := f.body
	if ex.ContentLength() == 0 {
		if b.required {
			errs.add("body", "required")
		}
		return false
	}
	ct := ex.Header("Content-Type")
	media := b.find(ct)
	if media == nil && !b.any {
		ex.Reject(http.StatusUnsupportedMediaType, "unsupported_media_type", b.unsupported(ct))
		return true
	}
	data, err := ex.Body(f.maxBody)
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge):
		ex.Reject(http.StatusRequestEntityTooLarge, "request_too_large", "the request body is larger than request-validation reads ("+strconv.FormatInt(f.maxBody, 10)+" bytes)")
		return true
	case err != nil:
		ex.Reject(http.StatusBadRequest, "bad_request", "the request body could not be read")
		return true
	case len(data) == 0: // chunked, and empty
		if b.required {
			errs.add("body", "required")
		}
		return false
	}
	if media == nil || media.schema == nil || !media.json {
		return false // declared without a schema, or not JSON: its media type is what is checked
	}
	v, err := decodeJSON(data)
	if err != nil {
		errs.add("body", "is not valid JSON: "+err.Error())
		return false
	}
	if err := media.schema.VisitJSON(v, f.opts...); err != nil {
		errs.schema("body", err)
	}
	return false
}

// OnResponse notes an answer the operation does not declare.
func (r responseFilter) OnResponse(ex *plugin.Exchange) {
	if note := r.r.check(ex.ResponseStatus(), ex.ResponseHeader("Content-Type")); note != "" {
		ex.SetNote(note)
	}
}

// mediaTypeOf is a Content-Type's media type without parameters, trimmed;
// the case is left as sent (compared with EqualFold).
func mediaTypeOf(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
