package openapi

// A composite route (a backend of type composite: a flow of calls to other
// APIs of its group) in the description file. The flow is the provider's
// design: its expressions name other services, their routes and how the
// answer is built, so it is written only into the provider's export
// (ExportOptions.Portico), as x-portico-composite on each of the route's
// operations, the CompositeBackend object as the admin API shows it. The
// document shown to API consumers describes the operation alone.
import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

const extComposite = "x-portico-composite" // on an operation: the composite backend's flow

// compositeObject is the flow as x-portico-composite writes it; nil when
// it cannot be encoded (it always can: it is JSON to begin with).
func compositeObject(c *spec.CompositeBackend) map[string]any {
	b, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// compositeResponses are the responses of a composite route's operation
// that declares none: the flow answers JSON of a shape only its response
// expression knows.
func compositeResponses() map[string]any {
	return map[string]any{"200": map[string]any{
		"description": compositeResponseDescription,
		"content":     map[string]any{jsonMedia: map[string]any{"schema": map[string]any{}}},
	}}
}

const compositeResponseDescription = "the composed answer"

// takeComposite reads the operation's x-portico-composite into the route's
// backend. A flow that is not one is the document's error, naming the
// operation's member (a provider's own export is always one: a change by
// hand must not silently turn the route into an upstream call).
func takeComposite(r *spec.Route, ptr string, ext any) error {
	at := ptr + "/" + extComposite
	obj, ok := ext.(map[string]any)
	if !ok {
		return docError(at, "must be an object: the composite backend's steps and response")
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return docError(at, "cannot be read: %v", err)
	}
	var c spec.CompositeBackend
	if err := strictJSON(b, &c); err != nil {
		return docError(at, "is not a composite backend: %v", err)
	}
	be := &spec.Backend{}
	if r.Backend != nil {
		cp := *r.Backend
		be = &cp
	}
	be.Type, be.Composite, be.SQLBackend = spec.BackendComposite, &c, nil
	probe := spec.Route{Name: "probe", Paths: r.Paths, Backend: be}
	if err := probe.Validate(); err != nil {
		if fe, ok := errors.AsType[spec.FieldErrors](err); ok && len(fe) > 0 {
			out := make(spec.FieldErrors, len(fe))
			for i, f := range fe {
				out[i] = spec.FieldError{Field: backendPointer(ptr, f.Field), Message: f.Message}
			}
			return out
		}
		return docError(at, "is not a valid composite backend: %v", err)
	}
	r.Backend = be
	return nil
}

var fieldIndex = regexp.MustCompile(`\[(\d+)\]`)

// backendPointer is the document's JSON pointer of a route field error
// ("backend.composite.steps[0].name"): x-portico-composite holds the
// flow, x-portico-backend the rest of the backend.
func backendPointer(ptr, field string) string {
	rest, ok := strings.CutPrefix(field, "backend")
	if !ok {
		return ptr + "/" + extComposite
	}
	ext := extBackend
	if after, ok := strings.CutPrefix(field, "backend.composite"); ok {
		ext, rest = extComposite, after
	}
	rest = fieldIndex.ReplaceAllString(rest, ".$1")
	out := ptr + "/" + ext
	for seg := range strings.SplitSeq(strings.TrimPrefix(rest, "."), ".") {
		if seg != "" {
			out += "/" + escapePointer(seg)
		}
	}
	return out
}
