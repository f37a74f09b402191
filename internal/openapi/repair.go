package openapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Real documents break OpenAPI's rules in ways that do not matter to
// routing. Import takes them anyway (load reports each rule broken as a
// warning) and mends what would otherwise make the service's exported
// description invalid too, saying what it did. What it mends here:
//   - path templates that differ only in parameter names (GitHub's
//     /orgs/{org}/attestations/{subject_digest} for GET and
//     …/{attestation_id} for DELETE): one route pattern, the first
//     template's, with the other operations' path parameters renamed;
//   - parameter names a route pattern cannot hold ({enterprise-team}):
//     renamed ({enterprise_team}), in the pattern and the operations;
//   - path parameters the template has and the operation does not declare
//     (declared as required strings), and the other way round (dropped);
//   - operations without responses (given the default response an export
//     gives them) and responses without a description (given an empty
//     one);
//   - security requirements naming a scheme the document does not define
//     (the scheme is left out: nothing could enforce it).

var templateParams = regexp.MustCompile(`\{([^{}/]*)\}`)

// templateShape is a path template with its parameters' names left out.
func templateShape(path string) string {
	return templateParams.ReplaceAllString(path, "{}")
}

// templateNames are a template's parameter names, in order.
func templateNames(path string) []string {
	var names []string
	for _, m := range templateParams.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	return names
}

// sharedTemplates maps each path of the document to the route pattern its
// operations take, when that is not the path itself: parameter names a
// Portico pattern cannot hold ({enterprise-team}) are made valid
// ({enterprise_team}), and a template of the same shape as an earlier one
// (in sorted order) takes that one's pattern. The renaming of the path's
// parameters goes with it.
func (im *importer) sharedTemplates(paths []string) map[string]renamedTemplate {
	first := map[string]string{}
	out := map[string]renamedTemplate{}
	for _, p := range paths {
		target := validNames(p)
		shape := templateShape(p)
		f, shared := first[shape]
		if shared {
			target = f
		} else {
			first[shape] = target
		}
		if target == p {
			continue
		}
		from, to := templateNames(p), templateNames(target)
		rename := map[string]string{}
		var said []string
		for i := range from {
			if from[i] != to[i] {
				rename[from[i]] = to[i]
				said = append(said, fmt.Sprintf("{%s} → {%s}", from[i], to[i]))
			}
		}
		out[p] = renamedTemplate{path: target, rename: rename}
		if shared {
			im.warn("/paths/"+escapePointer(p), "differs from %s only in parameter names: its operations share that route pattern, with %s",
				f, strings.Join(said, ", "))
		} else {
			im.warn("/paths/"+escapePointer(p), "parameter names a route pattern cannot hold are renamed: %s", strings.Join(said, ", "))
		}
	}
	return out
}

var nameInvalid = regexp.MustCompile(`[^A-Za-z0-9_]`)

// validNames is path with each parameter that is a whole segment named
// with letters, digits and '_' only (other characters become '_').
func validNames(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}") {
			name := nameInvalid.ReplaceAllString(seg[1:len(seg)-1], "_")
			if name[0] >= '0' && name[0] <= '9' {
				name = "_" + name
			}
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// renamedTemplate is the route pattern a path's operations take and the
// renaming of their path parameters.
type renamedTemplate struct {
	path   string
	rename map[string]string // the path's parameter name → the pattern's
}

// mendParameters renames path parameters as rename says and makes the
// path parameters declared exactly those of the template.
func (im *importer) mendParameters(ptr, template string, params openapi3.Parameters, rename map[string]string) openapi3.Parameters {
	want := map[string]bool{}
	for _, n := range templateNames(template) {
		want[n] = true
	}
	out := make(openapi3.Parameters, 0, len(params)+len(want))
	declared := map[string]bool{}
	for _, p := range params {
		if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInPath {
			out = append(out, p)
			continue
		}
		name := p.Value.Name
		if to, ok := rename[name]; ok {
			v := *p.Value // a copy: a shared component keeps its name elsewhere
			v.Name = to
			p = &openapi3.ParameterRef{Value: &v}
			name = to
		}
		if !want[name] || declared[name] {
			im.warn(ptr+"/parameters", "path parameter %q is not in the path template %s; left out", name, template)
			continue
		}
		declared[name] = true
		out = append(out, p)
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		if !declared[n] {
			out = append(out, &openapi3.ParameterRef{Value: openapi3.NewPathParameter(n).WithSchema(openapi3.NewStringSchema())})
			im.warn(ptr+"/parameters", "path parameter %q of the template is not declared; declared as a required string", n)
		}
	}
	return out
}

// defaultResponseDescription describes the response an operation without
// any is given, on import and on export alike (so that one is the other's
// fixpoint).
const defaultResponseDescription = "the backend's answer"

// mendResponses gives op a default response when it has none, and every
// response a description.
func mendResponses(op *openapi3.Operation) {
	if op.Responses == nil || op.Responses.Len() == 0 {
		op.Responses = openapi3.NewResponsesWithCapacity(1)
		op.Responses.Set("default", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(defaultResponseDescription)})
		return
	}
	for _, code := range op.Responses.Keys() {
		mendResponse(op.Responses.Value(code))
	}
}

func mendResponse(r *openapi3.ResponseRef) {
	if r != nil && r.Value != nil && r.Value.Description == nil {
		r.Value.Description = new("")
	}
}

// mendComponents gives the document's reusable responses a description,
// before the service keeps the document's components.
func mendComponents(doc *openapi3.T) {
	if doc.Components == nil {
		return
	}
	for _, r := range doc.Components.Responses {
		mendResponse(r)
	}
}

// mendSecurity leaves out of reqs the schemes the document does not
// define. It answers nil when that leaves no alternative of a non-empty
// list: an operation then falls back to the document's security rather
// than becoming explicitly open.
func (im *importer) mendSecurity(ptr string, reqs openapi3.SecurityRequirements) openapi3.SecurityRequirements {
	if len(reqs) == 0 {
		return reqs
	}
	var defined openapi3.SecuritySchemes
	if im.doc.Components != nil {
		defined = im.doc.Components.SecuritySchemes
	}
	out := make(openapi3.SecurityRequirements, 0, len(reqs))
	for i, req := range reqs {
		kept := openapi3.SecurityRequirement{}
		for name, scopes := range req {
			if _, ok := defined[name]; !ok {
				im.warn(fmt.Sprintf("%s/%d/%s", ptr, i, escapePointer(name)), "security scheme %q is not defined in components.securitySchemes: left out, nothing enforces it", name)
				continue
			}
			kept[name] = scopes
		}
		if len(req) > 0 && len(kept) == 0 {
			continue // every scheme of this alternative was undefined
		}
		out = append(out, kept)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
