package openapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/spec"
)

// Extensions a Portico export writes so that re-importing it restores what
// servers cannot say: the service path without any group prefix and the
// backend (servers list the gateway's URLs, not the backend's).
const (
	extServicePath = "x-portico-service-path"
	extUpstream    = "x-portico-upstream"
	extPath        = "x-portico-path"    // on an operation: the route path when OpenAPI cannot say it
	extOffline     = "x-portico-offline" // on an operation: the route is switched off
)

// Options tunes Import.
type Options struct {
	// Mock turns each operation's response example into a mock plugin on
	// its route (the gateway answers it without a backend).
	Mock bool
	// KnownPlugin reports whether the gateway runs a plugin of that name;
	// a mapped plugin it does not know is reported but not put on the
	// service or route, so that saving does not fail. nil: every name.
	KnownPlugin func(name string) bool
}

// Warning is something of the document that was not (fully) mapped. Field
// is a JSON pointer into the document.
type Warning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// PluginMapping says how a security scheme or a response example became a
// plugin. Applied is false when the gateway does not know the plugin yet:
// re-importing once it does turns the mapping on.
type PluginMapping struct {
	Source  string          `json:"source"` // JSON pointer of the scheme or example
	Plugin  string          `json:"plugin"`
	Config  json.RawMessage `json:"config"`
	Scope   string          `json:"scope"` // "service" or "route:NAME"
	Applied bool            `json:"applied"`
}

// Result is an imported document: one service, its routes, and the report.
type Result struct {
	SourceVersion string          `json:"source_version"` // "2.0", "3.0.3", "3.1.0", …
	Service       spec.Service    `json:"service"`        // Routes filled; no ids
	Plugins       []PluginMapping `json:"plugins,omitempty"`
	Warnings      []Warning       `json:"warnings,omitempty"`
	// Managed are the plugin names the document decides on (authentication
	// always, mock when asked): a re-import replaces these and keeps others.
	Managed []string `json:"-"`
	// pathSet and upstreamSet say whether the document gave a base path and
	// a backend; when it did not, a re-import keeps the stored ones.
	pathSet, upstreamSet bool
}

// AuthPlugins are the plugins security schemes map to.
var AuthPlugins = []string{"key-auth", "basic-auth", "jwt-auth", "oauth2"}

// Import reads an OpenAPI 3.0 / 3.1 or Swagger 2.0 document, JSON or YAML,
// into one service. What breaks OpenAPI's rules without stopping routing
// is reported in Result.Warnings; a document that cannot be read, or that
// is not valid and yields no operation, is spec.FieldErrors with JSON
// pointers. Nothing panics on any input.
func Import(data []byte, opts Options) (res *Result, err error) {
	defer func() {
		// kin-openapi is well kept but large; a bug in it on a hostile
		// document must cost this request, not the process.
		if v := recover(); v != nil {
			res, err = nil, docError("", "the document could not be read (%v)", v)
		}
	}()
	doc, source, warnings, err := load(data)
	if err != nil {
		return nil, err
	}
	res, err = convert(doc, source, opts)
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		if len(res.Service.Routes) == 0 {
			// Nothing to route, and the document is not valid: say why.
			fe := make(spec.FieldErrors, 0, len(warnings))
			for _, w := range warnings {
				fe = append(fe, spec.FieldError{Field: w.Field, Message: w.Message})
			}
			return nil, fe
		}
		res.Warnings = append(warnings, res.Warnings...)
	}
	return res, nil
}

type importer struct {
	doc     *openapi3.T
	opts    Options
	res     *Result
	schemes map[string]mapped // security scheme name → plugin
	global  []string          // scheme names of the document's security
	// effective are the scheme names each route's operation asks for.
	effective [][]string
}

type mapped struct {
	plugin string
	config json.RawMessage
}

func convert(doc *openapi3.T, source string, opts Options) (*Result, error) {
	if opts.KnownPlugin == nil {
		opts.KnownPlugin = func(string) bool { return true }
	}
	im := &importer{doc: doc, opts: opts, res: &Result{SourceVersion: source}, schemes: map[string]mapped{}}
	im.res.Managed = append([]string(nil), AuthPlugins...)
	if opts.Mock {
		im.res.Managed = append(im.res.Managed, "mock")
	}
	svc := &im.res.Service
	svc.Name = serviceName(doc.Info.Title)
	svc.Description = doc.Info.Description
	svc.Protocols = nil
	if err := im.servers(); err != nil {
		return nil, err
	}
	if doc.Security != nil {
		doc.Security = im.mendSecurity("/security", doc.Security)
	}
	mendComponents(doc)
	im.mendExamples(doc)
	im.security()
	frag, err := documentFragment(doc)
	if err != nil {
		return nil, err
	}
	svc.OpenAPI = frag
	if err := im.paths(); err != nil {
		return nil, err
	}
	im.placeAuth(im.effective)
	return im.res, nil
}

func (im *importer) warn(ptr, format string, args ...any) {
	w := Warning{Field: ptr, Message: fmt.Sprintf(format, args...)}
	if !slices.Contains(im.res.Warnings, w) {
		im.res.Warnings = append(im.res.Warnings, w)
	}
}

var nameJunk = regexp.MustCompile(`[^\p{L}\p{N} ._-]+`)

// serviceName makes info.title a valid service name: other characters
// become spaces, runs of spaces one, at most 100 characters.
func serviceName(title string) string {
	n := strings.Join(strings.Fields(nameJunk.ReplaceAllString(title, " ")), " ")
	n = strings.TrimLeft(n, " ._-")
	if r := []rune(n); len(r) > 100 {
		n = strings.TrimRight(string(r[:100]), " ")
	}
	if n == "" {
		n = "imported-api"
	}
	return n
}

// servers maps the first server to the service path and the upstream's
// scheme; every absolute server with the same scheme and base path adds a
// node. A Portico export's extensions take precedence.
func (im *importer) servers() error {
	svc := &im.res.Service
	ext := im.doc.Extensions
	if raw, ok := ext[extServicePath]; ok {
		p, _ := raw.(string)
		if p != "" && p != spec.DefaultPath && (spec.ValidatePath(p) != "" || strings.ContainsAny(p, "*{:")) {
			return docError("/"+extServicePath, "must be a literal path")
		}
		svc.Path, im.res.pathSet = p, true
	}
	if raw, ok := ext[extUpstream]; ok {
		b, err := json.Marshal(raw)
		if err != nil {
			return docError("/"+extUpstream, "must be an upstream object")
		}
		var u spec.Upstream
		if err := json.Unmarshal(b, &u); err != nil {
			return docError("/"+extUpstream, "must be an upstream object: %v", err)
		}
		if fe := u.Validate(""); len(fe) > 0 {
			return docError("/"+extUpstream+"/"+strings.ReplaceAll(fe[0].Field, ".", "/"), "%s", fe[0].Message)
		}
		svc.Upstream, im.res.upstreamSet = &u, true
	}
	_, hasPath := ext[extServicePath]
	_, hasUp := ext[extUpstream]
	if hasPath || hasUp {
		return nil
	}
	var up *spec.Upstream
	base, first := "", true
	seen := map[string]bool{}
	for i, s := range im.doc.Servers {
		ptr := fmt.Sprintf("/servers/%d", i)
		raw := s.URL
		for name, v := range s.Variables {
			raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
		}
		u, err := url.Parse(raw)
		if err != nil || strings.ContainsAny(raw, "{}") {
			im.warn(ptr+"/url", "%q is not a URL; ignored", s.URL)
			continue
		}
		p := strings.TrimRight(u.EscapedPath(), "/")
		if first {
			first, base, im.res.pathSet = false, p, true
			if p != "" && (spec.ValidatePath(p) != "" || strings.ContainsAny(p, "*{:")) {
				im.warn(ptr+"/url", "base path %q cannot be a service path; the service has none", p)
				base = ""
			} else {
				svc.Path = p
			}
		} else if p != base {
			im.warn(ptr+"/url", "another base path than the first server's; ignored")
			continue
		}
		if u.Scheme == "" || u.Host == "" {
			continue // a relative server names only the base path
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			im.warn(ptr+"/url", "scheme %q is not http or https; ignored", u.Scheme)
			continue
		}
		port := 80
		if u.Scheme == "https" {
			port = 443
		}
		if ps := u.Port(); ps != "" {
			if port, err = strconv.Atoi(ps); err != nil || port < 1 || port > 65535 {
				im.warn(ptr+"/url", "port %q is not valid; ignored", ps)
				continue
			}
		}
		if up == nil {
			up = &spec.Upstream{Scheme: u.Scheme}
		} else if up.Scheme != u.Scheme {
			im.warn(ptr+"/url", "another scheme than the first server's; ignored")
			continue
		}
		node := spec.Node{Host: u.Hostname(), Port: port, Weight: spec.DefaultNodeWeight}
		key := fmt.Sprintf("%s:%d", node.Host, node.Port)
		if seen[key] {
			continue
		}
		seen[key] = true
		up.Nodes = append(up.Nodes, node)
	}
	if up != nil {
		if fe := up.Validate(""); len(fe) > 0 {
			im.warn("/servers", "the servers do not make a valid upstream (%s: %s); give one when publishing", fe[0].Field, fe[0].Message)
			up = nil
		}
	}
	if up == nil {
		im.warn("/servers", "no absolute http(s) server URL: no upstream from this document; give one when publishing")
	}
	svc.Upstream, im.res.upstreamSet = up, up != nil
	return nil
}

// documentFragment is the document without paths, servers and Portico's
// extensions: what the service keeps for export. kin-openapi's JSON form
// is a map (MarshalYAML) that json.Marshal then writes: the keys are
// dropped from that map, so the document is encoded once.
func documentFragment(doc *openapi3.T) (json.RawMessage, error) {
	v, err := doc.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal document: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi: marshal document: %T, not an object", v)
	}
	for _, k := range []string{"paths", "servers", extServicePath, extUpstream} {
		delete(m, k)
	}
	out, err := encodeDocument(m)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal document fragment: %w", err)
	}
	return out, nil
}

// methodOrder is the order routes of one path are made in.
var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT"}

var templateParam = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

func (im *importer) paths() error {
	if im.doc.Paths == nil {
		return nil
	}
	keys := im.doc.Paths.Keys()
	slices.Sort(keys)
	shared := im.sharedTemplates(keys)
	names := map[string]bool{}
	var todo []*pendingRoute
	// What is warned of until the operations are encoded is said in its
	// turn below, with the route it came before (so after the routes
	// before it).
	mark := len(im.res.Warnings)
	for _, path := range keys {
		item := im.doc.Paths.Value(path)
		if item == nil {
			continue
		}
		pptr := "/paths/" + escapePointer(path)
		tmpl := renamedTemplate{path: path}
		if s, ok := shared[path]; ok {
			tmpl = s
		}
		if msg := routePath(tmpl.path); msg != "" {
			im.warn(pptr, "cannot be a route path (%s); its operations are not imported", msg)
			continue
		}
		ops := item.Operations()
		for _, method := range methodOrder {
			op := ops[method]
			if op == nil {
				continue
			}
			if op.Security != nil {
				if mended := im.mendSecurity(pptr+"/"+strings.ToLower(method)+"/security", *op.Security); mended != nil {
					op.Security = &mended
				} else {
					op.Security = nil
				}
			}
			p := im.prepareRoute(path, tmpl, method, item, op, names)
			p.warnings = slices.Clone(im.res.Warnings[mark:])
			im.res.Warnings = im.res.Warnings[:mark]
			todo = append(todo, p)
		}
	}
	last := slices.Clone(im.res.Warnings[mark:])
	im.res.Warnings = im.res.Warnings[:mark]
	// Encoding each operation (and decoding it for its design) is most of
	// the work, and independent: in parallel.
	errs := make([]error, len(todo))
	_ = parallel(len(todo), func(i int) error {
		errs[i] = todo[i].encode()
		return nil
	})
	say := func(ws []Warning) {
		for _, w := range ws {
			if !slices.Contains(im.res.Warnings, w) {
				im.res.Warnings = append(im.res.Warnings, w)
			}
		}
	}
	for i, p := range todo {
		say(p.warnings)
		if errs[i] != nil {
			return errs[i]
		}
		if err := im.finishRoute(p); err != nil {
			return err
		}
		im.res.Service.Routes = append(im.res.Service.Routes, p.r)
		sec := im.global
		if p.op.Security != nil {
			sec = im.requirement(p.ptr+"/security", *p.op.Security)
		}
		im.effective = append(im.effective, sec)
	}
	say(last)
	return nil
}

// routePath checks that an OpenAPI path template is a Portico route path:
// each segment literal or one whole {param}.
func routePath(p string) string {
	if msg := spec.ValidatePath(p); msg != "" {
		return msg
	}
	for seg := range strings.SplitSeq(p, "/") {
		if strings.ContainsAny(seg, "{}") && !templateParam.MatchString(seg) {
			return fmt.Sprintf("segment %q must be literal or one whole {param} of letters, digits and '_'", seg)
		}
		if strings.Contains(seg, "*") || strings.HasPrefix(seg, ":") {
			return fmt.Sprintf("segment %q would be a wildcard or parameter in Portico", seg)
		}
	}
	return ""
}

// pendingRoute is the route of one operation, made but for what its
// operation's JSON decides.
type pendingRoute struct {
	r        spec.Route
	ptr      string // the operation's JSON pointer
	method   string
	path     string
	op       *openapi3.Operation
	merged   openapi3.Operation // what the route keeps: path-level parameters in, Portico's extensions out
	warnings []Warning          // what was warned of since the route before was made, in order
	decoded  map[string]any     // r.OpenAPI decoded, for design
}

// prepareRoute makes the route of one operation but for its encoding;
// tmpl is the route pattern its path takes (the path itself, or an
// earlier template of the same shape).
func (im *importer) prepareRoute(path string, tmpl renamedTemplate, method string, item *openapi3.PathItem, op *openapi3.Operation, names map[string]bool) *pendingRoute {
	ptr := "/paths/" + escapePointer(path) + "/" + strings.ToLower(method)
	name := RouteName(op.OperationID, method, path)
	for i := 2; names[name]; i++ {
		name = fmt.Sprintf("%s_%d", strings.TrimRight(truncate(RouteName(op.OperationID, method, path), 95), "_"), i)
	}
	names[name] = true
	merged := *op
	merged.Parameters = im.mendParameters(ptr, tmpl.path, mergeParameters(item.Parameters, op.Parameters), tmpl.rename)
	mendResponses(&merged)
	routePath, offline := tmpl.path, false
	if len(op.Extensions) > 0 {
		// A Portico export writes what OpenAPI cannot say (a wildcard path,
		// an offline route) as extensions; they are not part of the fragment.
		merged.Extensions = map[string]any{}
		for k, v := range op.Extensions {
			switch k {
			case extPath:
				if p, _ := v.(string); p != "" && spec.ValidatePath(p) == "" {
					routePath = p
				} else {
					im.warn(ptr+"/"+extPath, "must be a route path; ignored")
				}
			case extOffline:
				offline, _ = v.(bool)
			default:
				merged.Extensions[k] = v
			}
		}
	}
	r := spec.Route{Name: name, Paths: []string{routePath}, Methods: []string{method}}
	if offline {
		r.Online = new(false)
	}
	r.Description = op.Summary
	if r.Description == "" {
		r.Description = op.Description
	}
	return &pendingRoute{r: r, ptr: ptr, method: method, path: path, op: op, merged: merged}
}

// encode encodes the route's operation, and decodes that for its design.
// It touches nothing shared but to read it: routes are encoded in
// parallel.
func (p *pendingRoute) encode() error {
	frag, err := json.Marshal(&p.merged)
	if err != nil {
		return fmt.Errorf("openapi: marshal operation %s %s: %w", p.method, p.path, err)
	}
	p.r.OpenAPI = frag
	if err := json.Unmarshal(frag, &p.decoded); err != nil {
		return fmt.Errorf("openapi: operation %s: %w", p.ptr, err)
	}
	return nil
}

// finishRoute takes the route's design out of its operation and maps a
// mock.
func (im *importer) finishRoute(p *pendingRoute) error {
	if err := im.design(&p.r, p.ptr, p.decoded); err != nil {
		return err
	}
	p.decoded = nil
	if im.opts.Mock {
		im.mock(&p.r, p.ptr, p.op)
	}
	return nil
}

// mergeParameters puts the path item's parameters the operation does not
// override in front of the operation's, so each route's fragment is whole.
func mergeParameters(pathLevel, opLevel openapi3.Parameters) openapi3.Parameters {
	if len(pathLevel) == 0 {
		return opLevel
	}
	has := map[string]bool{}
	for _, p := range opLevel {
		if p != nil && p.Value != nil {
			has[p.Value.In+"\x00"+p.Value.Name] = true
		}
	}
	out := make(openapi3.Parameters, 0, len(pathLevel)+len(opLevel))
	for _, p := range pathLevel {
		if p != nil && p.Value != nil && !has[p.Value.In+"\x00"+p.Value.Name] {
			out = append(out, p)
		}
	}
	return append(out, opLevel...)
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// RouteName is the route name of an operation: its operationId made valid
// (other characters become '_'), else method and path ("get_pets_petId").
func RouteName(operationID, method, path string) string {
	src := operationID
	if src == "" {
		src = strings.ToLower(method) + strings.NewReplacer("{", "", "}", "").Replace(path)
	}
	n := strings.Trim(nameChars.ReplaceAllString(src, "_"), "_-")
	if n == "" && operationID != "" {
		return RouteName("", method, path)
	}
	if n == "" {
		n = strings.ToLower(method) + "_root"
	}
	return truncate(n, 100)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] // names are ASCII here
	}
	return s
}
