package routing

// What a parameter mapping edits in the backend request: its query, its
// cookies and the fields of its JSON body.
import (
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// queryEdit is the upstream query, built once per request: the query as
// it stands (a plugin's edit, else the client's) minus the parameters
// that leave, plus those that arrive.
type queryEdit struct {
	base string
	drop []string
	add  []string // name, value pairs
}

func newQueryEdit(ex *plugin.Exchange) *queryEdit {
	q := &queryEdit{base: ex.RawQuery()}
	if raw, ok := ex.UpstreamQuery(); ok {
		q.base = raw
	}
	return q
}

func (q *queryEdit) del(name string) { q.drop = append(q.drop, name) }

// set sends name=value instead of whatever the query had of name.
func (q *queryEdit) set(name, value string) {
	q.drop = append(q.drop, name)
	q.add = append(q.add, name, value)
}

func (q *queryEdit) encode() string {
	var b strings.Builder
	rest := q.base
	for rest != "" {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if containsName(q.drop, key) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	for i := 0; i+1 < len(q.add); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(q.add[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(q.add[i+1]))
	}
	return b.String()
}

func containsName(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// withoutCookies is a Cookie header without the named cookies.
func withoutCookies(header string, names []string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(header, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if containsName(names, strings.TrimSpace(name)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(part)
	}
	return b.String()
}

// getPointer finds the member a pointer names (object members only).
func getPointer(doc map[string]any, ptr []string) (any, bool) {
	var cur any = doc
	for _, tok := range ptr {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPointer sets the member a pointer names, making the objects on the
// way; a member on the way that is not an object is replaced by one.
func setPointer(doc map[string]any, ptr []string, v any) {
	cur := doc
	for _, tok := range ptr[:len(ptr)-1] {
		next, ok := cur[tok].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[tok] = next
		}
		cur = next
	}
	cur[ptr[len(ptr)-1]] = v
}

// delPointer removes the member a pointer names, if it is there.
func delPointer(doc map[string]any, ptr []string) {
	cur := doc
	for _, tok := range ptr[:len(ptr)-1] {
		next, ok := cur[tok].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, ptr[len(ptr)-1])
}

// paramsName names the mapping's filter in trace spans.
const paramsName = "parameters"
