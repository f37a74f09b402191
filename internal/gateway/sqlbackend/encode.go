package sqlbackend

import (
	"database/sql"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// JSON kinds of a column.
const (
	kindString = iota
	kindNumber // integer or decimal: the database's text is a JSON number
	kindJSON
	kindBool
)

// JSONType maps a database type name to the JSON type of its values.
func JSONType(dbType string) string {
	t := strings.ToLower(dbType)
	t = strings.TrimPrefix(t, "unsigned ")
	switch {
	case t == "":
		return "string"
	case strings.HasPrefix(t, "int") || strings.HasSuffix(t, "int") || strings.Contains(t, "serial") ||
		t == "year" || t == "oid":
		return "integer"
	case strings.HasPrefix(t, "float") || strings.HasPrefix(t, "numeric") || strings.HasPrefix(t, "decimal") ||
		t == "double" || t == "real" || t == "money":
		return "number"
	case t == "bool" || t == "boolean" || t == "bit":
		return "boolean"
	case t == "json" || t == "jsonb":
		return "object"
	}
	return "string"
}

func kindOf(dbType string) int {
	switch JSONType(dbType) {
	case "integer", "number":
		return kindNumber
	case "object":
		return kindJSON
	case "boolean":
		return kindBool
	}
	return kindString
}

// rowEncoder appends rows as JSON objects; the keys are quoted once.
type rowEncoder struct {
	keys  [][]byte // `"name":`
	kinds []int
	vals  []any
	ptrs  []any
}

func newRowEncoder(cts []*sql.ColumnType) *rowEncoder {
	e := &rowEncoder{keys: make([][]byte, len(cts)), kinds: make([]int, len(cts)),
		vals: make([]any, len(cts)), ptrs: make([]any, len(cts))}
	for i, ct := range cts {
		e.keys[i] = append(plugin.AppendJSONString(nil, ct.Name()), ':')
		e.kinds[i] = kindOf(ct.DatabaseTypeName())
		e.ptrs[i] = &e.vals[i]
	}
	return e
}

// appendRow scans the current row and appends it.
func (e *rowEncoder) appendRow(dst []byte, rows *sql.Rows) ([]byte, error) {
	if err := rows.Scan(e.ptrs...); err != nil {
		return dst, err
	}
	dst = append(dst, '{')
	for i, v := range e.vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.keys[i]...)
		dst = appendValue(dst, v, e.kinds[i])
		e.vals[i] = nil
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v any, kind int) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case bool:
		return strconv.AppendBool(dst, x)
	case time.Time:
		dst = append(dst, '"')
		dst = x.AppendFormat(dst, time.RFC3339Nano)
		return append(dst, '"')
	case []byte:
		return appendText(dst, string(x), kind)
	case string:
		return appendText(dst, x, kind)
	}
	return plugin.AppendJSONString(dst, "") // a driver type we do not know: never reached with pgx and mysql
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendText writes a textual value: numbers and JSON of the database as
// they are (checked), everything else as a JSON string.
func appendText(dst []byte, s string, kind int) []byte {
	switch kind {
	case kindNumber:
		if isJSONNumber(s) {
			return append(dst, s...)
		}
	case kindJSON:
		if jsonValid(s) {
			return append(dst, s...)
		}
	case kindBool:
		switch s {
		case "1", "t", "true", "\x01":
			return append(dst, "true"...)
		case "0", "f", "false", "\x00":
			return append(dst, "false"...)
		}
	}
	return plugin.AppendJSONString(dst, s)
}

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if n := digits(); n == 0 || (n > 1 && s[i-n] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
