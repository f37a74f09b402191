package openapi

import (
	"encoding/json"
	"unicode/utf8"
)

// objectMembers splits a JSON object into its members' raw values, as
// json.Unmarshal into a map[string]json.RawMessage does, without decoding
// or checking the values: a scan for their ends only. Each value is
// checked by whoever decodes it. false: b is not one well-formed object at
// this level, or names a member twice (json.Unmarshal would merge or
// replace, and check the value replaced: the caller decodes such an
// object the plain way).
func objectMembers(b []byte) (map[string]json.RawMessage, bool) {
	out := map[string]json.RawMessage{}
	dup := false
	ok := eachMember(b, func(key string, _, val []byte) bool {
		if _, dup = out[key]; dup {
			return false
		}
		out[key] = json.RawMessage(val)
		return true
	})
	if !ok || dup {
		return nil, false
	}
	return out, true
}

// eachMember calls f with each member of the JSON object b, in order: its
// name, the name as written (quoted) and its raw value, until f answers
// false. false: b is not one well-formed object at this level (the
// values' insides are not checked), or f stopped.
func eachMember(b []byte, f func(key string, rawKey, val []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, ok := stringEnd(b, i)
		if !ok {
			return false
		}
		rawKey := b[i:end]
		key, ok := memberName(rawKey)
		if !ok {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend, ok := valueEnd(b, i)
		if !ok || !f(key, rawKey, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

// eachElement calls f with each element of the JSON array b, in order,
// until f answers false; false as eachMember.
func eachElement(b []byte, f func(val []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		vend, ok := valueEnd(b, i)
		if !ok || !f(b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return false
		}
		if b[i] == ']' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the string starting at b[i] ('"').
func stringEnd(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\':
			i++ // the escaped character is never the closing quote
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// memberName decodes a quoted member name; only one with escapes or
// bytes other than ASCII goes through encoding/json (which also turns
// invalid UTF-8 into U+FFFD, as it would in the map's keys).
func memberName(q []byte) (string, bool) {
	inner := q[1 : len(q)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return "", false
	}
	return s, true
}

// valueEnd is the index after the value starting at b[i]: a string, an
// object or array (brackets counted, strings inside skipped), or a literal
// up to the next delimiter. The value's inside is not checked.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := stringEnd(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, i > start
		}
		i++
	}
	return i, i > start
}
