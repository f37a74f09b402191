package sqlbackend

import (
	"fmt"
	"strings"
)

// scriptPart is a piece of a script: literal SQL text, or a named
// parameter (:name).
type scriptPart struct {
	text  string
	param string // set for a parameter
}

// splitScript cuts a script-mode statement into SQL text and :name
// parameters. It knows quoted strings and identifiers, comments, the ::
// cast and PostgreSQL's dollar quoting, so a colon inside them is text. It
// refuses a second statement and the dialect's own placeholders, which
// would shift the parameters Portico binds.
func splitScript(sql, dialect string) ([]scriptPart, error) {
	var parts []scriptPart
	var text strings.Builder
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end, err := skipQuoted(sql, i, c, dialect)
			if err != nil {
				return nil, err
			}
			text.WriteString(sql[i:end])
			i = end
		case c == '-' && i+1 < n && sql[i+1] == '-', c == '#' && dialect == dialectMySQL:
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = n - i
			}
			text.WriteString(sql[i : i+end])
			i += end
		case c == '/' && i+1 < n && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("a /* comment is not closed")
			}
			text.WriteString(sql[i : i+2+end+2])
			i += 2 + end + 2
		case c == '$' && dialect == dialectPostgres:
			if i+1 < n && sql[i+1] >= '0' && sql[i+1] <= '9' {
				return nil, fmt.Errorf("positional parameter $%c: name parameters :name instead", sql[i+1])
			}
			tag := dollarTag(sql[i:])
			if tag == "" {
				text.WriteByte(c)
				i++
				continue
			}
			end := strings.Index(sql[i+len(tag):], tag)
			if end < 0 {
				return nil, fmt.Errorf("dollar-quoted string %s is not closed", tag)
			}
			stop := i + len(tag) + end + len(tag)
			text.WriteString(sql[i:stop])
			i = stop
		case c == '?' && dialect == dialectMySQL:
			return nil, fmt.Errorf("placeholder ?: name parameters :name instead")
		case c == ':' && i+1 < n && sql[i+1] == ':':
			text.WriteString("::")
			i += 2
		case c == ':' && i+1 < n && isNameStart(sql[i+1]) && (i == 0 || !isNameByte(sql[i-1])):
			j := i + 1
			for j < n && isNameByte(sql[j]) {
				j++
			}
			if text.Len() > 0 {
				parts = append(parts, scriptPart{text: text.String()})
				text.Reset()
			}
			parts = append(parts, scriptPart{param: sql[i+1 : j]})
			i = j
		case c == ';':
			if strings.TrimSpace(stripComments(sql[i+1:])) != "" {
				return nil, fmt.Errorf("one statement only: text follows ';'")
			}
			i = n // a trailing ';' is dropped: the statement is wrapped
		default:
			text.WriteByte(c)
			i++
		}
	}
	if text.Len() > 0 {
		parts = append(parts, scriptPart{text: text.String()})
	}
	return parts, nil
}

// skipQuoted returns the index after the quoted text starting at i.
func skipQuoted(s string, i int, q byte, dialect string) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if dialect == dialectMySQL && q != '`' {
				j++ // MySQL strings escape with a backslash
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++ // doubled quote
				continue
			}
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("a %c-quoted text is not closed", q)
}

// dollarTag returns "$tag$" when s starts with one.
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1]
		case !isNameByte(s[j]):
			return ""
		}
	}
	return ""
}

// stripComments drops -- and /* */ comments (for the check after ';').
func stripComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "--"):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return b.String()
			}
			i += end
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 4
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

func isNameStart(c byte) bool {
	return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}

func isNameByte(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// firstKeyword is the statement's first word, lower case, after comments
// and opening parentheses.
func firstKeyword(sql string) string {
	s := strings.TrimLeft(stripComments(sql), " \t\r\n(")
	j := 0
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	return strings.ToLower(s[:j])
}

// hasWord reports whether the statement holds word outside strings (a
// rough check, used to pick how to page a script).
func hasWord(parts []scriptPart, word string) bool {
	for _, p := range parts {
		if p.param != "" {
			continue
		}
		for _, f := range strings.FieldsFunc(strings.ToLower(p.text), func(r rune) bool {
			return r > 127 || !isNameByte(byte(r))
		}) {
			if f == word {
				return true
			}
		}
	}
	return false
}
