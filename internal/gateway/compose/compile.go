package compose

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/portico-gw/portico/internal/spec"
)

// Flow is a compiled composite backend: safe for concurrent runs.
type Flow struct {
	steps   []*step
	timeout time.Duration
	status  int
	body    *vm.Program
	headers []namedProgram
	// requestHeaders are the request headers the expressions read (lower
	// case, sorted): the only ones a filter copies into Input.
	requestHeaders []string
}

// step is one compiled step.
type step struct {
	index    int
	name     string
	field    string // "steps[i]"
	target   string // "service/route" or "upstream"
	service  string
	route    string
	method   string
	upstream bool
	path     []pathPart // an upstream call's path

	cond    *vm.Program
	params  []namedProgram
	query   []namedProgram
	headers []namedProgram
	body    *vm.Program
	// contentType: the step's headers set Content-Type themselves.
	contentType bool

	timeout  time.Duration
	retries  int
	optional bool
	fallback any

	deps       []int // steps this one waits for
	dependents []int // steps waiting for this one
}

// namedProgram is the expression of one entry of a map (params, query,
// headers), in name order so that runs are deterministic.
type namedProgram struct {
	name  string
	field string
	prog  *vm.Program
}

// pathPart is a literal piece of an upstream path or a parameter filled
// at run time (wildcard: the trailing "*", which may span segments).
type pathPart struct {
	literal  string
	param    string
	wildcard bool
}

// RequestHeaders are the request headers (lower-case names) the flow's
// expressions read: a filter copies these into Input.Headers.
func (f *Flow) RequestHeaders() []string { return f.requestHeaders }

// compiler gathers a flow's errors while it compiles it.
type compiler struct {
	errs    []error
	names   map[string]int
	headers map[string]bool
}

func (c *compiler) fail(field, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func compile(def *spec.CompositeBackend) (*Flow, error) {
	if def == nil {
		return nil, &FieldError{Field: "", Message: "is required"}
	}
	c := &compiler{names: make(map[string]int, len(def.Steps)), headers: map[string]bool{}}
	f := &Flow{status: 200}

	switch t := def.Timeout; {
	case t == 0:
		f.timeout = seconds(spec.CompositeDefaultTimeout)
	case !(t > 0 && t <= spec.CompositeMaxTimeout):
		c.fail("timeout", "must be between 0 (the default, %g s) and %g seconds", spec.CompositeDefaultTimeout, spec.CompositeMaxTimeout)
	default:
		f.timeout = seconds(t)
	}
	switch n := len(def.Steps); {
	case n == 0:
		c.fail("steps", "needs at least one step")
	case n > spec.CompositeMaxSteps:
		c.fail("steps", "has %d steps; at most %d are allowed", n, spec.CompositeMaxSteps)
		return nil, errors.Join(c.errs...)
	}
	for i := range def.Steps {
		s := &def.Steps[i]
		field := fmt.Sprintf("steps[%d]", i)
		if !validStepName(s.Name) {
			c.fail(field+".name", "must be a lower-case identifier: a letter, then letters, digits or '_' (at most 40)")
			continue
		}
		if _, dup := c.names[s.Name]; dup {
			c.fail(field+".name", "step %q is named twice", s.Name)
			continue
		}
		c.names[s.Name] = i
	}
	f.steps = make([]*step, len(def.Steps))
	for i := range def.Steps {
		f.steps[i] = c.step(i, &def.Steps[i])
	}
	c.response(f, &def.Response)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if err := order(f.steps); err != nil {
		return nil, err
	}
	f.requestHeaders = make([]string, 0, len(c.headers))
	for h := range c.headers {
		f.requestHeaders = append(f.requestHeaders, h)
	}
	sort.Strings(f.requestHeaders)
	return f, nil
}

func (c *compiler) step(i int, s *spec.CompositeStep) *step {
	st := &step{index: i, name: s.Name, field: fmt.Sprintf("steps[%d]", i), retries: s.Retries, optional: s.Optional}
	field := st.field
	switch {
	case s.Service != "" && s.Path != "":
		c.fail(field+".path", "give either service and route (an API of the group) or path (the service's upstream), not both")
	case s.Service != "":
		if s.Route == "" {
			c.fail(field+".route", "is required with service: the name of the route called")
		}
		st.service, st.route, st.target = s.Service, s.Route, s.Service+"/"+s.Route
	case s.Path != "":
		st.upstream, st.target, st.method = true, "upstream", "GET"
		if msg := spec.ValidatePath(s.Path); msg != "" {
			c.fail(field+".path", "%s", msg)
		} else {
			st.path = parsePath(s.Path)
		}
	default:
		c.fail(field+".service", "is required: the service and route called, or give path to call the service's upstream")
	}
	if s.Method != "" {
		if !slices.Contains(spec.Methods, s.Method) {
			c.fail(field+".method", "must be one of %s", strings.Join(spec.Methods, ", "))
		}
		st.method = s.Method
	}
	switch t := s.Timeout; {
	case t == 0:
	case !(t > 0 && t <= spec.CompositeMaxTimeout):
		c.fail(field+".timeout", "must be between 0 (what is left of the flow's) and %g seconds", spec.CompositeMaxTimeout)
	default:
		st.timeout = seconds(t)
	}
	if s.Retries < 0 || s.Retries > spec.CompositeMaxRetries {
		c.fail(field+".retries", "must be between 0 and %d", spec.CompositeMaxRetries)
	}
	if len(s.Fallback) > 0 {
		if len(s.Fallback) > spec.CompositeMaxFallback {
			c.fail(field+".fallback", "is larger than %d bytes", spec.CompositeMaxFallback)
		} else if v, err := decodeJSON(s.Fallback); err != nil {
			c.fail(field+".fallback", "must be a JSON value")
		} else {
			st.fallback = v
		}
	}

	refs := map[string]bool{}
	st.cond = c.stepExpr(st, field+".if", s.If, refs, false)
	st.body = c.stepExpr(st, field+".body", s.Body, refs, false)
	st.params = c.stepMap(st, field+".params", s.Params, refs, false)
	st.query = c.stepMap(st, field+".query", s.Query, refs, false)
	st.headers = c.stepMap(st, field+".headers", s.Headers, refs, true)
	for _, h := range st.headers {
		if strings.EqualFold(h.name, "Content-Type") {
			st.contentType = true
		}
	}
	if st.upstream && st.path != nil {
		c.checkPathParams(st, s)
	}

	for j, a := range s.After {
		switch k, ok := c.names[a]; {
		case !ok:
			c.fail(fmt.Sprintf("%s.after[%d]", field, j), "names no step of this backend: %q", a)
		case k == i:
			c.fail(fmt.Sprintf("%s.after[%d]", field, j), "a step cannot wait for itself")
		default:
			refs[a] = true
		}
	}
	for name := range refs {
		if k, ok := c.names[name]; ok && k != i {
			st.deps = append(st.deps, k)
		}
	}
	sort.Ints(st.deps)
	return st
}

// checkPathParams matches an upstream path's parameters with the step's
// params: each needs a value, and a value needs a place.
func (c *compiler) checkPathParams(st *step, s *spec.CompositeStep) {
	inPath := map[string]bool{}
	for _, p := range st.path {
		switch {
		case p.wildcard:
			inPath["*"] = true
		case p.param != "":
			inPath[p.param] = true
		}
	}
	for name := range inPath {
		if _, ok := s.Params[name]; !ok {
			c.fail(st.field+".params", "gives no value to the path's parameter %q", name)
		}
	}
	for name := range s.Params {
		if !inPath[name] {
			c.fail(st.field+".params."+name, "the path %q has no parameter %q", s.Path, name)
		}
	}
}

func (c *compiler) stepMap(st *step, field string, m map[string]string, refs map[string]bool, headers bool) []namedProgram {
	if len(m) > spec.CompositeMaxEntries {
		c.fail(field, "has %d entries; at most %d are allowed", len(m), spec.CompositeMaxEntries)
		return nil
	}
	out := make([]namedProgram, 0, len(m))
	for name, src := range m {
		f := field + "." + name
		if !c.entryName(f, name, headers) {
			continue
		}
		if p := c.stepExpr(st, f, src, refs, true); p != nil {
			out = append(out, namedProgram{name: name, field: f, prog: p})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// entryName checks the name of a params, query or headers entry.
func (c *compiler) entryName(field, name string, header bool) bool {
	switch {
	case name == "":
		c.fail(field, "has an empty name")
	case header && !validHeaderName(name):
		c.fail(field, "is not a header name")
	case header && reservedHeader(name):
		c.fail(field, "is set by the gateway and cannot be given")
	default:
		return true
	}
	return false
}

// stepExpr compiles one expression of a step, adding the steps it reads
// to refs. An empty optional expression is nil.
func (c *compiler) stepExpr(st *step, field, src string, refs map[string]bool, required bool) *vm.Program {
	if strings.TrimSpace(src) == "" {
		if required {
			c.fail(field, "needs an expression")
		}
		return nil
	}
	p, a := c.expr(field, src)
	if a == nil {
		return nil
	}
	if a.stepsWhole {
		c.fail(field, "uses steps as a whole: a step reads other steps by name (steps.NAME or steps[\"NAME\"]), so that the order they run in is known")
	}
	for _, name := range a.stepRefs {
		switch k, ok := c.names[name]; {
		case !ok:
			c.fail(field, "reads steps.%s: no step %s", name, name)
		case k == st.index:
			c.fail(field, "reads steps.%s: a step cannot read its own answer", name)
		default:
			refs[name] = true
		}
	}
	return p
}

func (c *compiler) response(f *Flow, r *spec.CompositeResponse) {
	switch {
	case r.Status == 0:
	case r.Status < 200 || r.Status > 599:
		c.fail("response.status", "must be between 200 and 599")
	default:
		f.status = r.Status
	}
	if strings.TrimSpace(r.Body) == "" {
		c.fail("response.body", "is required: an expression building the answer")
	} else {
		f.body = c.responseExpr("response.body", r.Body)
	}
	if len(r.Headers) > spec.CompositeMaxEntries {
		c.fail("response.headers", "has %d entries; at most %d are allowed", len(r.Headers), spec.CompositeMaxEntries)
		return
	}
	for name, src := range r.Headers {
		field := "response.headers." + name
		if !c.entryName(field, name, true) {
			continue
		}
		if strings.TrimSpace(src) == "" {
			c.fail(field, "needs an expression")
			continue
		}
		if p := c.responseExpr(field, src); p != nil {
			f.headers = append(f.headers, namedProgram{name: name, field: field, prog: p})
		}
	}
	sort.Slice(f.headers, func(a, b int) bool { return f.headers[a].name < f.headers[b].name })
}

// responseExpr compiles an expression of the answer: every step has
// finished then, so steps may be used whole; names must still exist.
func (c *compiler) responseExpr(field, src string) *vm.Program {
	p, a := c.expr(field, src)
	if a == nil {
		return nil
	}
	for _, name := range a.stepRefs {
		if _, ok := c.names[name]; !ok {
			c.fail(field, "reads steps.%s: no step %s", name, name)
		}
	}
	return p
}

// expr compiles src; on an error it records it and returns a nil analyzer.
func (c *compiler) expr(field, src string) (*vm.Program, *analyzer) {
	if len(src) > spec.CompositeMaxExpression {
		c.fail(field, "is longer than %d bytes", spec.CompositeMaxExpression)
		return nil, nil
	}
	a := &analyzer{}
	p, err := compileExpr(src, a)
	if err != nil {
		c.fail(field, "%s", oneLine(err.Error()))
		return nil, nil
	}
	a.finish()
	ok := true
	if a.usesEnv {
		c.fail(field, "uses $env: read the variables request and steps")
		ok = false
	}
	if a.headersWhole() {
		c.fail(field, "uses request.headers as a whole: read headers by name (request.headers[\"x-name\"]); the gateway passes a flow only the headers it names")
		ok = false
	}
	for _, h := range a.headerNames {
		if h != strings.ToLower(h) {
			c.fail(field, "reads request.headers[%q]: header names are lower case here (request.headers[%q])", h, strings.ToLower(h))
			ok = false
			continue
		}
		c.headers[h] = true
	}
	if !ok {
		return nil, nil
	}
	return p, a
}

// compileExpr compiles one expression; expr may panic on input it did
// not foresee, which is an error here.
func compileExpr(src string, a *analyzer) (p *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("the expression cannot be compiled: %v", r)
		}
	}()
	return expr.Compile(src, exprOptions(a)...)
}

// order links each step to those waiting for it and refuses a cycle,
// naming the steps of one.
func order(steps []*step) error {
	for _, s := range steps {
		for _, d := range s.deps {
			steps[d].dependents = append(steps[d].dependents, s.index)
		}
	}
	// Kahn: what remains once every step without pending dependencies
	// is removed lies on or behind a cycle.
	pending := make([]int, len(steps))
	var ready []int
	for i, s := range steps {
		pending[i] = len(s.deps)
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	removed := 0
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		removed++
		for _, d := range steps[i].dependents {
			pending[d]--
			if pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if removed == len(steps) {
		return nil
	}
	// Walk from a remaining step along remaining dependencies until a
	// step repeats: the walk from its first visit is a cycle.
	start := slices.IndexFunc(pending, func(p int) bool { return p > 0 })
	var path []int
	seen := map[int]int{}
	for i := start; ; {
		if at, ok := seen[i]; ok {
			path = append(path[at:], i)
			break
		}
		seen[i] = len(path)
		path = append(path, i)
		next := -1
		for _, d := range steps[i].deps {
			if pending[d] > 0 {
				next = d
				break
			}
		}
		if next < 0 { // cannot happen: a remaining step waits for a remaining one
			return &FieldError{Field: steps[i].field, Message: "is part of a cycle of steps"}
		}
		i = next
	}
	names := make([]string, len(path))
	for k, i := range path {
		names[k] = steps[i].name
	}
	return &FieldError{Field: steps[path[0]].field, Message: fmt.Sprintf("steps %s form a cycle", strings.Join(names, " → "))}
}

func parsePath(p string) []pathPart {
	var parts []pathPart
	segs := strings.Split(p[1:], "/")
	lit := ""
	for i, s := range segs {
		lit += "/"
		switch {
		case len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}':
			parts = append(parts, pathPart{literal: lit}, pathPart{param: s[1 : len(s)-1]})
			lit = ""
		case len(s) > 1 && s[0] == ':':
			parts = append(parts, pathPart{literal: lit}, pathPart{param: s[1:]})
			lit = ""
		case i == len(segs)-1 && strings.HasSuffix(s, "*"):
			parts = append(parts, pathPart{literal: lit + strings.TrimSuffix(s, "*")}, pathPart{param: "*", wildcard: true})
			lit = ""
		default:
			lit += s
		}
	}
	if lit != "" {
		parts = append(parts, pathPart{literal: lit})
	}
	return parts
}

func validStepName(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// validHeaderName: an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

// reservedHeader: the gateway owns the framing of calls and answers.
func reservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-connection":
		return true
	}
	return false
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}
