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
//     (the scheme is left out: nothing could enforce it);
//   - examples with neither a value nor an external value (left out).

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
		rename, said := renaming(p, target)
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

// renaming maps the parameter names of path to those of target, segment
// by segment; parameters a segment of target merged (several in one
// segment) have no name there and are left out of the map (the operation
// loses them, with a warning, and declares target's).
func renaming(path, target string) (map[string]string, []string) {
	rename := map[string]string{}
	var said []string
	from, to := strings.Split(path, "/"), strings.Split(target, "/")
	for i := range min(len(from), len(to)) {
		f, t := templateNames(from[i]), templateNames(to[i])
		if len(f) == 1 && len(t) == 1 && f[0] != t[0] {
			rename[f[0]] = t[0]
		}
		if len(t) == 1 && (len(f) != 1 || f[0] != t[0]) {
			said = append(said, fmt.Sprintf("%s → %s", from[i], to[i]))
		}
	}
	return rename, said
}

var nameInvalid = regexp.MustCompile(`[^A-Za-z0-9_]`)

// validNames is path with each parameter segment made one parameter named
// with letters, digits and '_' only: other characters become '_', and a
// segment of several parameters (GitHub's {base}...{head}) becomes one
// parameter named after them ({base_head}), which matches those requests
// and others of one segment. One parameter with text ({name}.json) stays
// as it is: made a parameter it would match far more than it says.
func validNames(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		names := templateNames(seg)
		whole := len(names) == 1 && seg == "{"+names[0]+"}"
		if !whole && len(names) < 2 {
			continue // literal, or one parameter with text ({name}.json): not a pattern segment
		}
		name := strings.Join(names, "_")
		if name = nameInvalid.ReplaceAllString(name, "_"); name == "" || name[0] >= '0' && name[0] <= '9' {
			name = "_" + name
		}
		segs[i] = "{" + name + "}"
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

// mendExamples leaves out examples that hold neither a value nor an
// external value (GitHub's description has them, written `"value": null`):
// they show nothing, and the exported description would not be valid with
// them. ptr names where each walk starts.
func (im *importer) mendExamples(doc *openapi3.T) {
	// The walk goes through maps; its warnings are put in pointer order so
	// an import answers the same every time.
	mark := len(im.res.Warnings)
	defer func() {
		slices.SortStableFunc(im.res.Warnings[mark:], func(a, b Warning) int { return strings.Compare(a.Field, b.Field) })
	}()
	if c := doc.Components; c != nil {
		im.dropEmptyExamples("/components/examples", c.Examples)
		for n, r := range c.Responses {
			if r != nil {
				im.mendResponseExamples("/components/responses/"+escapePointer(n), r.Value)
			}
		}
		for n, b := range c.RequestBodies {
			if b != nil && b.Value != nil {
				im.mendContent("/components/requestBodies/"+escapePointer(n)+"/content", b.Value.Content)
			}
		}
		for n, p := range c.Parameters {
			if p != nil {
				im.mendParameter("/components/parameters/"+escapePointer(n), p.Value)
			}
		}
		for n, h := range c.Headers {
			if h != nil && h.Value != nil {
				im.mendParameter("/components/headers/"+escapePointer(n), &h.Value.Parameter)
			}
		}
	}
	if doc.Paths == nil {
		return
	}
	for path, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		pptr := "/paths/" + escapePointer(path)
		for i, p := range item.Parameters {
			if p != nil && p.Ref == "" {
				im.mendParameter(fmt.Sprintf("%s/parameters/%d", pptr, i), p.Value)
			}
		}
		for method, op := range item.Operations() {
			optr := pptr + "/" + strings.ToLower(method)
			for i, p := range op.Parameters {
				if p != nil && p.Ref == "" {
					im.mendParameter(fmt.Sprintf("%s/parameters/%d", optr, i), p.Value)
				}
			}
			if b := op.RequestBody; b != nil && b.Ref == "" && b.Value != nil {
				im.mendContent(optr+"/requestBody/content", b.Value.Content)
			}
			if op.Responses != nil {
				for code, r := range op.Responses.Map() {
					if r != nil && r.Ref == "" {
						im.mendResponseExamples(optr+"/responses/"+escapePointer(code), r.Value)
					}
				}
			}
		}
	}
}

func (im *importer) mendResponseExamples(ptr string, r *openapi3.Response) {
	if r == nil {
		return
	}
	im.mendContent(ptr+"/content", r.Content)
	for n, h := range r.Headers {
		if h != nil && h.Ref == "" && h.Value != nil {
			im.mendParameter(ptr+"/headers/"+escapePointer(n), &h.Value.Parameter)
		}
	}
}

func (im *importer) mendParameter(ptr string, p *openapi3.Parameter) {
	if p == nil {
		return
	}
	im.dropEmptyExamples(ptr+"/examples", p.Examples)
	im.mendContent(ptr+"/content", p.Content)
}

func (im *importer) mendContent(ptr string, c openapi3.Content) {
	for mt, m := range c {
		if m != nil {
			im.dropEmptyExamples(ptr+"/"+escapePointer(mt)+"/examples", m.Examples)
		}
	}
}

func (im *importer) dropEmptyExamples(ptr string, examples openapi3.Examples) {
	for n, e := range examples {
		if e != nil && e.Ref == "" && e.Value != nil && e.Value.Value == nil && e.Value.ExternalValue == "" {
			delete(examples, n)
			im.warn(ptr+"/"+escapePointer(n), "an example with neither a value nor an external value; left out")
		}
	}
}
