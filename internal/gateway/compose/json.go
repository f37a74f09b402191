package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
)

var errTooLarge = errors.New("the value is too large")

// jsonSize estimates the bytes of v encoded as JSON, refusing past limit
// or maxDepth before anything is allocated: a value an expression built
// may share one array many times (reduce(…, [#acc, #acc])), so its
// encoding can be exponentially larger than its memory.
func jsonSize(v any, limit int) (int, error) {
	n := 0
	err := addJSONSize(v, 0, limit, &n)
	return n, err
}

func addJSONSize(v any, depth, limit int, n *int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
	case string:
		*n += len(x) + 2
	case int, int64, int32, uint, uint64, float64, float32, json.Number:
		*n += 24
	case time.Time:
		*n += 40
	case map[string]any:
		*n += 2
		for k, e := range x {
			*n += len(k) + 4
			if *n > limit {
				return errTooLarge
			}
			if err := addJSONSize(e, depth+1, limit, n); err != nil {
				return err
			}
		}
	case []any:
		*n += 2
		for _, e := range x {
			*n++
			if *n > limit {
				return errTooLarge
			}
			if err := addJSONSize(e, depth+1, limit, n); err != nil {
				return err
			}
		}
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			*n += 2
			for i := 0; i < rv.Len(); i++ {
				*n++
				if *n > limit {
					return errTooLarge
				}
				if err := addJSONSize(rv.Index(i).Interface(), depth+1, limit, n); err != nil {
					return err
				}
			}
		case reflect.Map:
			*n += 2
			it := rv.MapRange()
			for it.Next() {
				*n += 4 + 24
				if *n > limit {
					return errTooLarge
				}
				if err := addJSONSize(it.Value().Interface(), depth+1, limit, n); err != nil {
					return err
				}
			}
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			*n += 24
		case reflect.String:
			*n += rv.Len() + 2
		default:
			return fmt.Errorf("a %T cannot be encoded as JSON", v)
		}
	}
	if *n > limit {
		return errTooLarge
	}
	return nil
}

// marshalBounded encodes v as JSON, at most limit bytes.
func marshalBounded(v any, limit int) ([]byte, error) {
	if _, err := jsonSize(v, limit); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode as JSON: %w", err)
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// decodeBody is the value expressions see for a body: its JSON when it
// is JSON (declared, or it parses as such), else its text; nil when empty.
func decodeBody(b []byte) any {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if v, err := decodeJSON(b); err == nil {
		return v
	}
	return string(b)
}

// decodeJSON decodes one JSON value; numbers become int when integral
// and exact (ids keep every digit), else float64.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("more than one JSON value")
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	}
	return v
}
