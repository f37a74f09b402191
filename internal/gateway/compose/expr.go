package compose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm"
)

// Bounds of one expression. Expressions come from a service's publisher
// and run inside the gateway, so what one may cost is capped: its size
// (nodes), the arrays and maps the VM builds (vmMemoryBudget elements per
// evaluation), and, through the meter, the strings and elements the
// functions below build and the iterations of predicates (per run).
const (
	maxNodes       = 2000
	vmMemoryBudget = 1_000_000
)

// Names of the variables expressions read.
const (
	varRequest = "request"
	varSteps   = "steps"
	// meterKey holds the run's *meter in the env map. It is not an
	// identifier, so an expression cannot name it; only the calls the
	// patcher rewrites receive it (through $env, which a flow may not use).
	meterKey = " meter"
	envIdent = "$env"
)

// compileEnv is the environment expressions are checked against: both
// variables hold maps, so any member access compiles (its value is only
// known at run time), and any other name is refused.
var compileEnv = map[string]any{
	varRequest: map[string]any{},
	varSteps:   map[string]any{},
}

// disabledBuiltins read the clock or the process's time zone database:
// an answer depends only on the request and the steps' answers.
var disabledBuiltins = []string{"now", "timezone"}

// metered are the functions that receive the run's meter as a hidden
// first argument: those whose output may be much larger than their input,
// replacing expr's builtins of the same name, and the two the patcher
// inserts (_add for '+', _tick around each predicate's body).
var metered = map[string]func(m *meter, args []any) (any, error){
	"merge":      fnMerge,
	"repeat":     fnRepeat,
	"join":       fnJoin,
	"replace":    fnReplace,
	"toJSON":     fnToJSON,
	"string":     fnString,
	"flatten":    fnFlatten,
	"concat":     fnConcat,
	"split":      fnSplit(false),
	"splitAfter": fnSplit(true),
	fnAddName:    fnAdd,
	fnTickName:   fnTick,
}

const (
	fnAddName  = "_add"
	fnTickName = "_tick"
)

// exprOptions are the options every expression compiles with; an
// analyzer (per expression) runs first on the parsed tree.
func exprOptions(a *analyzer) []expr.Option {
	opts := []expr.Option{
		expr.Env(compileEnv),
		expr.MaxNodes(maxNodes),
		expr.Patch(a),
		expr.Patch(meterPatcher{}),
	}
	for _, name := range disabledBuiltins {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	for name, fn := range metered {
		opts = append(opts, meteredFunction(name, fn))
	}
	return opts
}

// meteredFunction registers fn as an expr function taking the env map
// first (the patcher adds it to every call).
func meteredFunction(name string, fn func(m *meter, args []any) (any, error)) expr.Option {
	return func(c *conf.Config) {
		expr.Function(name, func(params ...any) (any, error) {
			if len(params) == 0 {
				return nil, fmt.Errorf("%s: called without its environment", name)
			}
			env, _ := params[0].(map[string]any)
			m, _ := env[meterKey].(*meter)
			if m == nil {
				return nil, fmt.Errorf("%s: called without its environment", name)
			}
			return fn(m, params[1:])
		})(c)
	}
}

// meterPatcher rewrites the tree so that the run's meter sees what costs:
// a + b becomes _add($env, a, b), each predicate's body p becomes
// _tick($env, p), and each call of a metered function gets $env first.
type meterPatcher struct{}

func (meterPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator == "+" {
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: fnAddName},
				Arguments: []ast.Node{&ast.IdentifierNode{Value: envIdent}, n.Left, n.Right},
			})
		}
	case *ast.PredicateNode:
		body := n.Node
		n.Node = &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: fnTickName},
			Arguments: []ast.Node{&ast.IdentifierNode{Value: envIdent}, body},
		}
		n.Node.SetLocation(body.Location())
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || metered[id.Value] == nil || id.Value == fnAddName || id.Value == fnTickName {
			return
		}
		env := &ast.IdentifierNode{Value: envIdent}
		env.SetLocation(n.Location())
		n.Arguments = append([]ast.Node{env}, n.Arguments...)
	}
}

// evaluator runs compiled programs; one per goroutine (a VM is not safe
// for concurrent use).
type evaluator struct {
	vm vm.VM
}

func (e *evaluator) eval(p *vm.Program, env map[string]any) (any, error) {
	e.vm.MemoryBudget = vmMemoryBudget
	v, err := e.vm.Run(p, env)
	if err != nil {
		return nil, fmt.Errorf("%s", oneLine(err.Error()))
	}
	return v, nil
}

// oneLine keeps the first line of expr's errors, which go on with the
// source and a caret under the column.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// analyzer walks an expression's tree (before the meter's patches) and
// finds what it reads: the steps it names, and the request headers.
type analyzer struct {
	stepRefs     []string
	stepsIdents  []*ast.IdentifierNode
	stepsNamed   map[*ast.IdentifierNode]bool
	stepsWhole   bool
	usesEnv      bool
	headerNames  []string
	headerNodes  []*ast.MemberNode
	headersNamed map[*ast.MemberNode]bool
}

// Visit sees children before their parent (ast.Walk), so an identifier
// is listed before the member access that names a step on it.
func (a *analyzer) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		switch n.Value {
		case varSteps:
			a.stepsIdents = append(a.stepsIdents, n)
		case envIdent:
			a.usesEnv = true
		}
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok {
			if prop, ok := n.Property.(*ast.StringNode); ok {
				switch id.Value {
				case varSteps:
					if a.stepsNamed == nil {
						a.stepsNamed = map[*ast.IdentifierNode]bool{}
					}
					a.stepsNamed[id] = true
					if !slices.Contains(a.stepRefs, prop.Value) {
						a.stepRefs = append(a.stepRefs, prop.Value)
					}
				case varRequest:
					if prop.Value == "headers" {
						a.headerNodes = append(a.headerNodes, n)
					}
				}
			}
		}
		if inner, ok := n.Node.(*ast.MemberNode); ok && a.isRequestHeaders(inner) {
			if prop, ok := n.Property.(*ast.StringNode); ok {
				if a.headersNamed == nil {
					a.headersNamed = map[*ast.MemberNode]bool{}
				}
				a.headersNamed[inner] = true
				if !slices.Contains(a.headerNames, prop.Value) {
					a.headerNames = append(a.headerNames, prop.Value)
				}
			}
		}
	}
}

// isRequestHeaders: m is request.headers (or request["headers"]).
func (a *analyzer) isRequestHeaders(m *ast.MemberNode) bool {
	return slices.Contains(a.headerNodes, m)
}

func (a *analyzer) headersWhole() bool {
	for _, m := range a.headerNodes {
		if !a.headersNamed[m] {
			return true
		}
	}
	return false
}

// finish is called by compile once the tree was walked.
func (a *analyzer) finish() {
	for _, id := range a.stepsIdents {
		if !a.stepsNamed[id] {
			a.stepsWhole = true
		}
	}
}
