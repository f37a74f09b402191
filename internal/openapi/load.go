// Package openapi converts between OpenAPI descriptions and Portico's
// resource types: Import reads an OpenAPI 3.0, 3.1 or Swagger 2.0 document
// (JSON or YAML) into one service with its routes and a report of what was
// mapped, Plan compares that with what is stored (dry run, re-import in
// place), and Export writes the OpenAPI 3.1 description of a service.
//
// Parsing and validation are kin-openapi's; this package only maps. Every
// document is upgraded to 3.1 on import (Swagger 2 through openapi2conv,
// 3.0 through openapi3conv) and the operation objects are kept in that form
// on the routes, so that import → export → import is a fixpoint.
package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3conv"
	"sigs.k8s.io/yaml"

	"github.com/portico-gw/portico/internal/spec"
)

// Version is the OpenAPI version of every exported document and of the
// fragments stored on services and routes.
const Version = "3.1.0"

// maxDepth bounds the nesting of an input document: deep nesting is how a
// hostile document makes a recursive decoder burn stack and CPU.
const maxDepth = 200

// load parses data (JSON or YAML; OpenAPI 3.x or Swagger 2.0), resolves
// its internal references, validates it and upgrades it to 3.1. It answers
// the source version and what validation found: real documents often break
// rules that do not matter to routing (a missing responses object, an
// undefined security scheme, an array schema without items), so those are
// warnings, with the JSON pointer of each, and the document is imported
// anyway. A document that cannot be parsed or resolved is spec.FieldErrors
// whose fields are JSON pointers into the document.
func load(data []byte) (*openapi3.T, string, []Warning, error) {
	js, err := toJSON(data)
	if err != nil {
		return nil, "", nil, err
	}
	swagger, openAPI, top, err := documentHead(js)
	if err != nil {
		return nil, "", nil, err
	}
	var doc *openapi3.T
	var source string
	switch {
	case swagger != nil:
		if s, _ := swagger.(string); s != "2.0" {
			return nil, "", nil, headError(js, top, docError("/swagger", "must be \"2.0\" (Swagger 2.0)"))
		}
		source = "2.0"
		var doc2 openapi2.T
		if err := json.Unmarshal(js, &doc2); err != nil {
			return nil, "", nil, decodeError(err)
		}
		if doc, err = openapi2conv.ToV3(&doc2); err != nil {
			return nil, "", nil, docError("", "cannot convert this Swagger 2.0 document: %v", err)
		}
	case openAPI != nil:
		s, _ := openAPI.(string)
		if !strings.HasPrefix(s, "3.0") && !strings.HasPrefix(s, "3.1") {
			return nil, "", nil, headError(js, top, docError("/openapi", "must be a 3.0.x or 3.1.x version (or give swagger: \"2.0\")"))
		}
		source = s
		if doc, err = decodeDocument(js, top); err != nil {
			return nil, "", nil, err
		}
	default:
		return nil, "", nil, headError(js, top, docError("/openapi", "is required: the document is neither OpenAPI 3.x (openapi) nor Swagger 2.0 (swagger)"))
	}
	loader := openapi3.NewLoader()
	// Never read files or URLs named by a document sent to the server.
	loader.IsExternalRefsAllowed = false
	if err := loader.ResolveRefsIn(doc, nil); err != nil {
		return nil, "", nil, docError("", "unresolvable reference: %v", err)
	}
	ctx := openapi3.WithValidationOptions(context.Background(),
		openapi3.EnableMultiError(),
		// Real documents often carry examples that do not quite match
		// their schemas; that should not stop an import.
		openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation())
	var warnings []Warning
	if err := doc.Validate(ctx); err != nil {
		for _, fe := range validationErrors(err) {
			warnings = append(warnings, Warning{Field: fe.Field, Message: "not valid OpenAPI, imported anyway: " + fe.Message})
		}
	}
	openapi3conv.Upgrade(doc)
	doc.OpenAPI = Version
	return doc, source, warnings, nil
}

// documentHead answers the document's swagger and openapi members, as
// json.Unmarshal into a struct of those two fields would, and its members
// split (objectMembers) for decodeDocument: a scan of the document less.
// top is nil when the members cannot be split; the head is then decoded
// the plain way, which also checks the whole document's syntax. Only
// then: otherwise the members' decoders check it.
func documentHead(js []byte) (swagger, openAPI any, top map[string]json.RawMessage, err error) {
	if top, ok := objectMembers(js); ok && !namedButForCase(top, "swagger") && !namedButForCase(top, "openapi") {
		sw, hasSw := top["swagger"]
		oa, hasOA := top["openapi"]
		if (!hasSw || json.Unmarshal(sw, &swagger) == nil) && (!hasOA || json.Unmarshal(oa, &openAPI) == nil) {
			return swagger, openAPI, top, nil
		}
	}
	var head struct {
		Swagger any `json:"swagger"`
		OpenAPI any `json:"openapi"`
	}
	if err := json.Unmarshal(js, &head); err != nil { // a syntax error
		return nil, nil, nil, decodeError(err)
	}
	return head.Swagger, head.OpenAPI, nil, nil
}

// namedButForCase: a member of obj has name but for case (json.Unmarshal
// would take it for that field).
func namedButForCase(obj map[string]json.RawMessage, name string) bool {
	for k := range obj {
		if k != name && strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// headError is err about the head of a document whose members were split
// unchecked (top), or the syntax error of the document when it has one,
// which is what the head decoded the plain way says first.
func headError(js []byte, top map[string]json.RawMessage, err error) error {
	if top != nil && !json.Valid(js) {
		var v any
		return decodeError(json.Unmarshal(js, &v))
	}
	return err
}

// toJSON turns a JSON or YAML document into JSON, refusing what is too deep.
func toJSON(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, docError("", "the document is empty")
	}
	js := trimmed
	if trimmed[0] != '{' {
		if depthOver(trimmed, maxDepth, true) {
			return nil, docError("", "the document nests deeper than %d levels", maxDepth)
		}
		var err error
		if js, err = yaml.YAMLToJSON(trimmed); err != nil {
			return nil, docError("", "neither JSON nor YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		}
	}
	if depthOver(js, maxDepth, false) {
		return nil, docError("", "the document nests deeper than %d levels", maxDepth)
	}
	if js[0] != '{' {
		return nil, docError("", "the document must be a JSON or YAML object")
	}
	// Not checked with json.Valid here: the first json.Unmarshal of the
	// document checks it and reports a syntax error (a scan of the whole
	// document less, on one of 13 MB a tenth of a second).
	return js, nil
}

// depthOver is a cheap over-estimate of bracket nesting (strings are not
// skipped, so quoted brackets count too): enough to refuse hostile input
// before a recursive parser sees it. For YAML, indentation counts as well.
func depthOver(b []byte, limit int, yamlIndent bool) bool {
	depth := 0
	for _, c := range b {
		switch c {
		case '{', '[':
			depth++
			if depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	if !yamlIndent {
		return false
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if n := len(line) - len(bytes.TrimLeft(line, " -")); n > 4*limit {
			return true
		}
	}
	return false
}

func docError(pointer, format string, args ...any) error {
	return spec.FieldErrors{{Field: pointer, Message: fmt.Sprintf(format, args...)}}
}

// decodeError names where a document does not fit the OpenAPI shapes.
func decodeError(err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		ptr := ""
		if te.Field != "" {
			ptr = "/" + strings.ReplaceAll(te.Field, ".", "/")
		}
		return docError(ptr, "must not be a JSON %s", te.Value)
	}
	return docError("", "malformed document: %v", err)
}

// validationErrors flattens kin-openapi's validation errors into one
// field error per problem, its field the JSON pointer built from the
// context wrappers (section, path, method, component) around the leaf.
func validationErrors(err error) spec.FieldErrors {
	var leaves []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		leaves = []error(me)
	} else {
		leaves = []error{err}
	}
	fe := make(spec.FieldErrors, 0, len(leaves))
	for _, e := range leaves {
		ptr, msg := locate(e)
		fe = append(fe, spec.FieldError{Field: ptr, Message: msg})
	}
	return fe
}

var componentSections = map[string]string{
	"schema": "schemas", "parameter": "parameters", "header": "headers",
	"request body": "requestBodies", "response": "responses", "security scheme": "securitySchemes",
	"example": "examples", "link": "links", "callback": "callbacks",
}

func locate(err error) (string, string) {
	var ptr strings.Builder
	e := err
	for e != nil {
		switch t := e.(type) {
		case *openapi3.SectionValidationError:
			section := t.Section
			if section == "external docs" {
				section = "externalDocs"
			}
			ptr.WriteString("/" + section)
			e = t.Cause
			continue
		case *openapi3.PathValidationError:
			ptr.WriteString("/" + escapePointer(t.Path))
			e = t.Cause
			continue
		case *openapi3.OperationValidationError:
			ptr.WriteString("/" + strings.ToLower(t.Method))
			e = t.Cause
			continue
		case *openapi3.ComponentValidationError:
			if s, ok := componentSections[t.Section]; ok {
				ptr.WriteString("/" + s)
			}
			ptr.WriteString("/" + escapePointer(t.Name))
			e = t.Cause
			continue
		case *openapi3.WebhookValidationError:
			ptr.WriteString("/" + escapePointer(t.Name))
			e = t.Cause
			continue
		}
		break
	}
	// "" is the whole document (RFC 6901).
	return ptr.String(), e.Error()
}

// escapePointer escapes one JSON pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
