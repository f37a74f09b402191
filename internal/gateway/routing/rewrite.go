package routing

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/match"
)

// pathTemplate is a backend path with {param} placeholders, split once at
// build time so a request only concatenates.
type pathTemplate struct {
	parts []string // literal, param, literal, param, …, literal
}

func compilePathTemplate(p string) (*pathTemplate, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("must start with /")
	}
	t := &pathTemplate{}
	rest := p
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, rest)
			return t, nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed { in %q", p)
		}
		name := rest[i+1 : i+j]
		if name == "" || strings.ContainsAny(name, "{/") {
			return nil, fmt.Errorf("bad parameter {%s} in %q", name, p)
		}
		t.parts = append(t.parts, rest[:i], name)
		rest = rest[i+j+1:]
	}
}

// check reports a placeholder that some path of the route does not
// capture: it would silently expand to an empty segment. Placeholders a
// parameter is mapped to (mapped) are filled by the mapping instead.
func (t *pathTemplate) check(paths, mapped []string) error {
	for i := 1; i < len(t.parts); i += 2 {
		name := t.parts[i]
		if slices.Contains(mapped, name) {
			continue
		}
		for _, p := range paths {
			if !captures(p, name) {
				return fmt.Errorf("{%s} is not captured by the route path %s", name, p)
			}
		}
	}
	return nil
}

// captures reports whether the route path p has the parameter name ({name}
// or :name), or for "*" whether it ends in a wildcard.
func captures(p, name string) bool {
	if name == "*" {
		return strings.HasSuffix(p, "*")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "{"+name+"}" || seg == ":"+name {
			return true
		}
	}
	return false
}

// expand fills the template from the request's path parameters; "*" names
// what the route's wildcard covered.
func (t *pathTemplate) expand(ps *match.Params) string {
	if len(t.parts) == 1 {
		return t.parts[0]
	}
	var b strings.Builder
	for i, part := range t.parts {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		if part == "*" {
			w, _ := ps.Wildcard()
			b.WriteString(w)
			continue
		}
		b.WriteString(ps.Get(part))
	}
	return b.String()
}
