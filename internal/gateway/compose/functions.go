package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm/runtime"
)

// Bounds of one run, every expression of every step counted: the bytes of
// the strings and elements the metered functions build, and the
// iterations of predicates (map, filter, reduce, …).
const (
	maxRunBytes = 64 << 20
	maxRunTicks = 1_000_000
	// maxDepth bounds the nesting of a value encoded as JSON or
	// flattened: deeper values are refused rather than recursed into.
	maxDepth = 512
)

var (
	errBudget = errors.New("the expression builds too much: it exceeds the flow's memory budget")
	errTicks  = errors.New("the expression iterates too much: it exceeds the flow's budget of iterations")
	errDepth  = errors.New("the value is nested too deeply")
)

// meter counts what one run's expressions build; its steps share it.
type meter struct {
	bytes atomic.Int64
	ticks atomic.Int64
}

// grow books n bytes about to be allocated; past the budget it refuses.
func (m *meter) grow(n int) error {
	if n < 0 || n > maxRunBytes || m.bytes.Add(int64(n)) > maxRunBytes {
		return errBudget
	}
	return nil
}

// elemSize is what one element of an array or map is booked as.
const elemSize = 16

func fnTick(m *meter, args []any) (any, error) {
	if m.ticks.Add(1) > maxRunTicks {
		return nil, errTicks
	}
	if len(args) != 1 {
		return nil, errors.New("internal: tick takes one value")
	}
	return args[0], nil
}

// fnAdd is '+': strings are booked, everything else is expr's own Add.
func fnAdd(m *meter, args []any) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("internal: + takes two operands")
	}
	if a, ok := args[0].(string); ok {
		if b, ok := args[1].(string); ok {
			if err := m.grow(len(a) + len(b)); err != nil {
				return nil, err
			}
			return a + b, nil
		}
	}
	return runtime.Add(args[0], args[1]), nil
}

// fnMerge is merge(a, b, …): a new object with the keys of every argument,
// later ones winning. null counts as an empty object (a step's default
// fallback); anything else that is not an object is an error.
func fnMerge(m *meter, args []any) (any, error) {
	n := 0
	for i, a := range args {
		switch o := a.(type) {
		case nil:
		case map[string]any:
			n += len(o)
		default:
			return nil, fmt.Errorf("merge: argument %d is %s, not an object", i+1, kindOf(a))
		}
	}
	if err := m.grow(n * elemSize); err != nil {
		return nil, err
	}
	out := make(map[string]any, n)
	for _, a := range args {
		if o, ok := a.(map[string]any); ok {
			for k, v := range o {
				out[k] = v
			}
		}
	}
	return out, nil
}

func fnRepeat(m *meter, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("repeat: takes a string and a count, got %d arguments", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("repeat: the first argument is %s, not a string", kindOf(args[0]))
	}
	n, ok := toInt(args[1])
	if !ok || n < 0 {
		return nil, errors.New("repeat: the count must be an integer of at least 0")
	}
	if n > 0 && len(s) > maxRunBytes/n {
		return nil, errBudget
	}
	if err := m.grow(len(s) * n); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

func fnJoin(m *meter, args []any) (any, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, fmt.Errorf("join: takes an array and a separator, got %d arguments", len(args))
	}
	glue := ""
	if len(args) == 2 {
		g, ok := args[1].(string)
		if !ok {
			return nil, fmt.Errorf("join: the separator is %s, not a string", kindOf(args[1]))
		}
		glue = g
	}
	var parts []string
	switch a := args[0].(type) {
	case []string:
		parts = a
	case []any:
		parts = make([]string, len(a))
		for i, v := range a {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("join: element %d is %s, not a string", i, kindOf(v))
			}
			parts[i] = s
		}
	default:
		return nil, fmt.Errorf("join: the first argument is %s, not an array of strings", kindOf(args[0]))
	}
	size := 0
	for _, p := range parts {
		size += len(p) + len(glue)
		if size > maxRunBytes {
			return nil, errBudget
		}
	}
	if err := m.grow(size); err != nil {
		return nil, err
	}
	return strings.Join(parts, glue), nil
}

func fnReplace(m *meter, args []any) (any, error) {
	if len(args) != 3 && len(args) != 4 {
		return nil, fmt.Errorf("replace: takes a string, what to replace and its replacement, got %d arguments", len(args))
	}
	var ss [3]string
	for i := range ss {
		s, ok := args[i].(string)
		if !ok {
			return nil, fmt.Errorf("replace: argument %d is %s, not a string", i+1, kindOf(args[i]))
		}
		ss[i] = s
	}
	s, old, repl := ss[0], ss[1], ss[2]
	n := strings.Count(s, old)
	if len(args) == 4 {
		limit, ok := toInt(args[3])
		if !ok {
			return nil, errors.New("replace: the count must be an integer")
		}
		if limit >= 0 && limit < n {
			n = limit
		}
	}
	if d := len(repl) - len(old); d > 0 && n > 0 && d > maxRunBytes/n {
		return nil, errBudget
	}
	if err := m.grow(max(len(s)+n*(len(repl)-len(old)), 0)); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, repl, n), nil
}

// fnToJSON is toJSON(v): compact JSON (expr's own indents it).
func fnToJSON(m *meter, args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("toJSON: takes one value, got %d arguments", len(args))
	}
	b, err := marshalBounded(args[0], maxRunBytes)
	if err != nil {
		return nil, fmt.Errorf("toJSON: %w", err)
	}
	if err := m.grow(len(b)); err != nil {
		return nil, err
	}
	return string(b), nil
}

// fnString is string(v): scalars in their usual form, anything else as
// expr prints it, once its size is known to be reasonable.
func fnString(m *meter, args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("string: takes one value, got %d arguments", len(args))
	}
	if s, ok := scalarString(args[0]); ok {
		return s, nil
	}
	if args[0] == nil {
		return "<nil>", nil
	}
	size, err := jsonSize(args[0], maxRunBytes/2)
	if err != nil {
		return nil, fmt.Errorf("string: %w", err)
	}
	if err := m.grow(2 * size); err != nil {
		return nil, err
	}
	return fmt.Sprintf("%v", args[0]), nil
}

func fnFlatten(m *meter, args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("flatten: takes one array, got %d arguments", len(args))
	}
	v := reflect.ValueOf(args[0])
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, fmt.Errorf("flatten: the argument is %s, not an array", kindOf(args[0]))
	}
	n, err := countLeaves(v, 0, maxRunBytes/elemSize)
	if err != nil {
		return nil, fmt.Errorf("flatten: %w", err)
	}
	if err := m.grow(n * elemSize); err != nil {
		return nil, err
	}
	out := make([]any, 0, n)
	return appendLeaves(out, v), nil
}

func countLeaves(v reflect.Value, depth, limit int) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	n := 0
	for i := 0; i < v.Len(); i++ {
		e := v.Index(i)
		if e.Kind() == reflect.Interface {
			e = e.Elem()
		}
		if e.Kind() == reflect.Slice || e.Kind() == reflect.Array {
			c, err := countLeaves(e, depth+1, limit-n)
			if err != nil {
				return 0, err
			}
			n += c
		} else {
			n++
		}
		if n > limit {
			return 0, errBudget
		}
	}
	return n, nil
}

func appendLeaves(out []any, v reflect.Value) []any {
	for i := 0; i < v.Len(); i++ {
		e := v.Index(i)
		if e.Kind() == reflect.Interface {
			e = e.Elem()
		}
		if e.Kind() == reflect.Slice || e.Kind() == reflect.Array {
			out = appendLeaves(out, e)
		} else if e.IsValid() {
			out = append(out, e.Interface())
		} else {
			out = append(out, nil)
		}
	}
	return out
}

func fnConcat(m *meter, args []any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("concat: takes at least one array")
	}
	n := 0
	for i, a := range args {
		v := reflect.ValueOf(a)
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return nil, fmt.Errorf("concat: argument %d is %s, not an array", i+1, kindOf(a))
		}
		n += v.Len()
		if n > maxRunBytes/elemSize {
			return nil, errBudget
		}
	}
	if err := m.grow(n * elemSize); err != nil {
		return nil, err
	}
	out := make([]any, 0, n)
	for _, a := range args {
		v := reflect.ValueOf(a)
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i).Interface())
		}
	}
	return out, nil
}

func fnSplit(after bool) func(m *meter, args []any) (any, error) {
	name := "split"
	if after {
		name = "splitAfter"
	}
	return func(m *meter, args []any) (any, error) {
		if len(args) != 2 && len(args) != 3 {
			return nil, fmt.Errorf("%s: takes a string, a separator and an optional count, got %d arguments", name, len(args))
		}
		s, ok1 := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: the string and the separator must be strings", name)
		}
		limit := -1
		if len(args) == 3 {
			l, ok := toInt(args[2])
			if !ok {
				return nil, fmt.Errorf("%s: the count must be an integer", name)
			}
			limit = l
		}
		n := strings.Count(s, sep) + 1
		if limit >= 0 && limit < n {
			n = limit
		}
		if err := m.grow(n * elemSize); err != nil {
			return nil, err
		}
		if after {
			return strings.SplitAfterN(s, sep, limit), nil
		}
		return strings.SplitN(s, sep, limit), nil
	}
}

// toInt reads an integer argument: an int or an integral float.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		if n > math.MaxInt || n < math.MinInt {
			return 0, false
		}
		return int(n), true
	case float64:
		if n != math.Trunc(n) || n > 1<<53 || n < -(1<<53) {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

// scalarString is the text of a scalar sent as a parameter, a query value
// or a header: integers without exponent, other numbers in their shortest
// exact form.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case json.Number:
		return x.String(), true
	case time.Time:
		return x.Format(time.RFC3339Nano), true
	case time.Duration:
		return x.String(), true
	}
	return "", false
}

// kindOf names a value's JSON kind for errors.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, int32, uint, uint64, float64, float32:
		return "a number"
	case map[string]any:
		return "an object"
	case []any, []int, []string, []float64:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
