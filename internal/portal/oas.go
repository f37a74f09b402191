package portal

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The API page renders the listed version's OpenAPI document on the
// server. The document comes from the provider and is untrusted: it is
// read as plain JSON values (no code runs on it), every text is escaped by
// html/template and shown as plain text, only references inside the
// document are followed, cycles end in a marked node, and depth, node,
// operation and text limits keep a hostile document from costing more than
// a page. A limit that cut something short shows on the page (Capped).

// Limits of one rendering.
const (
	maxDepth     = 10    // schema nesting shown
	maxNodes     = 8000  // schema nodes in the whole document
	maxOpNodes   = 800   // schema nodes of one operation
	maxOps       = 300   // operations
	maxChildren  = 200   // properties of one object
	maxParams    = 100   // parameters of one operation
	maxText      = 4000  // characters of one description
	maxShort     = 300   // characters of an enum, default or example shown inline
	maxExample   = 16384 // bytes of one example shown in full
	maxRefHops   = 32    // $ref chain followed before giving up
	maxEnum      = 50    // enum values shown
	maxSampleOps = 400   // sample nodes of one Try it body
)

// apiDoc is a rendered document.
type apiDoc struct {
	Title, Version, Description string
	Servers                     []string
	Groups                      []opGroup
	Capped                      bool   // a limit cut something short
	Err                         string // the document could not be read at all
}

type opGroup struct {
	Name, Description string // Name "" is the untagged group
	Ops               []*operation
}

type operation struct {
	Anchor, Method, Path, Summary, Description string
	Deprecated                                 bool
	Params                                     []param
	Body                                       *reqBody
	Responses                                  []response
	Sample                                     string // a request body to start Try it with
}

type param struct {
	Name, In, Type, Description, Example string
	Required, Deprecated                 bool
}

type reqBody struct {
	Description string
	Required    bool
	Media       []media
}

type media struct {
	Type     string
	Schema   *schemaNode
	Examples []example
}

type example struct{ Name, Value string }

type response struct {
	Code, Description string
	Media             []media
}

// renderer holds one document and what its rendering may still spend.
type renderer struct {
	doc    map[string]any
	nodes  int // left in the document
	op     int // left in the current operation
	capped bool
}

var methodOrder = []string{"get", "post", "put", "patch", "delete", "head", "options", "trace"}

// renderDoc reads an OpenAPI 3 document (JSON) into what the API page shows.
func renderDoc(raw []byte) apiDoc {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return apiDoc{Err: "the document is not a JSON object"}
	}
	r := &renderer{doc: doc, nodes: maxNodes}
	out := apiDoc{}
	info, _ := doc["info"].(map[string]any)
	out.Title, out.Version, out.Description = text(info["title"], maxShort), text(info["version"], maxShort), text(info["description"], maxText)
	servers, _ := doc["servers"].([]any)
	for _, s := range servers[:min(len(servers), 20)] {
		if m, ok := s.(map[string]any); ok {
			if u := text(m["url"], maxShort); u != "" {
				out.Servers = append(out.Servers, u)
			}
		}
	}
	groups := map[string]*opGroup{}
	var order []string
	tags, _ := doc["tags"].([]any)
	for _, t := range tags[:min(len(tags), 200)] {
		m, _ := t.(map[string]any)
		name := text(m["name"], maxShort)
		if name == "" || groups[name] != nil {
			continue
		}
		groups[name] = &opGroup{Name: name, Description: text(m["description"], maxText)}
		order = append(order, name)
	}
	paths, _ := doc["paths"].(map[string]any)
	anchors := map[string]bool{}
	count := 0
	for _, path := range sortedKeys(paths) {
		item, _ := r.deref(paths[path])
		if item == nil {
			continue
		}
		for _, method := range methodOrder {
			opv, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			if count >= maxOps {
				r.capped = true
				break
			}
			count++
			op := r.operation(path, method, item, opv)
			op.Anchor = anchorOf(opv, method, path, anchors)
			tag := ""
			if ts, _ := opv["tags"].([]any); len(ts) > 0 {
				tag = text(ts[0], maxShort)
			}
			g := groups[tag]
			if g == nil {
				g = &opGroup{Name: tag}
				groups[tag] = g
				order = append(order, tag)
			}
			g.Ops = append(g.Ops, op)
		}
	}
	for _, name := range order {
		if g := groups[name]; len(g.Ops) > 0 {
			out.Groups = append(out.Groups, *g)
		}
	}
	out.Capped = r.capped
	return out
}

func (r *renderer) operation(path, method string, item, opv map[string]any) *operation {
	r.op = maxOpNodes
	op := &operation{Method: strings.ToUpper(method), Path: text(path, maxShort), Summary: text(opv["summary"], maxShort),
		Description: text(opv["description"], maxText), Deprecated: opv["deprecated"] == true}
	// Path-level parameters apply unless the operation names the same
	// parameter (name and location) again.
	seen := map[string]bool{}
	for _, list := range []any{opv["parameters"], item["parameters"]} {
		ps, _ := list.([]any)
		for _, pv := range ps {
			if len(op.Params) >= maxParams {
				r.capped = true
				break
			}
			pm, _ := r.deref(pv)
			if pm == nil {
				continue
			}
			p := r.param(pm)
			if p.Name == "" || seen[p.In+"\x00"+p.Name] {
				continue
			}
			seen[p.In+"\x00"+p.Name] = true
			op.Params = append(op.Params, p)
		}
	}
	if bm, _ := r.deref(opv["requestBody"]); bm != nil {
		op.Body = &reqBody{Description: text(bm["description"], maxText), Required: bm["required"] == true, Media: r.content(bm["content"])}
		for _, m := range op.Body.Media {
			if strings.Contains(m.Type, "json") {
				op.Sample = r.sampleBody(bm["content"], m.Type)
				break
			}
		}
	}
	resps, _ := opv["responses"].(map[string]any)
	codes := mapKeys(resps)
	slices.SortFunc(codes, func(a, b string) int { return strings.Compare(codeKey(a), codeKey(b)) })
	for _, code := range codes[:min(len(codes), 50)] {
		rm, _ := r.deref(resps[code])
		if rm == nil {
			continue
		}
		op.Responses = append(op.Responses, response{Code: text(code, 16), Description: text(rm["description"], maxText), Media: r.content(rm["content"])})
	}
	return op
}

// codeKey sorts response codes: 1XX…5XX in order, "default" last.
func codeKey(c string) string {
	if strings.EqualFold(c, "default") {
		return "9"
	}
	return strings.ToUpper(c)
}

func (r *renderer) param(pm map[string]any) param {
	p := param{Name: text(pm["name"], maxShort), In: text(pm["in"], 16), Description: text(pm["description"], maxText),
		Required: pm["required"] == true || pm["in"] == "path", Deprecated: pm["deprecated"] == true}
	sv := pm["schema"]
	if sv == nil {
		// A parameter described by content: its first media type's schema.
		if c, ok := pm["content"].(map[string]any); ok {
			for _, k := range sortedKeys(c) {
				if mm, ok := c[k].(map[string]any); ok {
					sv = mm["schema"]
					break
				}
			}
		}
	}
	if sm, ref := r.deref(sv); sm != nil {
		p.Type = typeOf(sm)
		if ref != "" && p.Type == "object" {
			p.Type = refName(ref)
		}
		if ex, ok := sm["example"]; ok && p.Example == "" {
			p.Example = short(ex)
		}
		if e, ok := sm["enum"].([]any); ok {
			p.Type += " " + enumText(e)
		}
	} else if t := text(pm["type"], 32); t != "" {
		p.Type = t // Swagger 2's inline type
	}
	if ex, ok := pm["example"]; ok {
		p.Example = short(ex)
	}
	return p
}

// content reads a content map (media type → schema and examples), JSON
// media types first.
func (r *renderer) content(v any) []media {
	c, _ := v.(map[string]any)
	keys := mapKeys(c)
	slices.SortFunc(keys, func(a, b string) int {
		ja, jb := strings.Contains(a, "json"), strings.Contains(b, "json")
		if ja != jb {
			if ja {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []media
	for _, k := range keys[:min(len(keys), 10)] {
		mm, _ := c[k].(map[string]any)
		if mm == nil {
			continue
		}
		m := media{Type: text(k, maxShort)}
		if sv, ok := mm["schema"]; ok {
			m.Schema = r.schema(sv, "", false, 0, map[string]bool{})
		}
		if ex, ok := mm["example"]; ok {
			m.Examples = append(m.Examples, example{Value: pretty(ex)})
		}
		exs, _ := mm["examples"].(map[string]any)
		for _, name := range sortedKeys(exs)[:min(len(exs), 10)] {
			em, _ := r.deref(exs[name])
			if em == nil {
				continue
			}
			label := text(em["summary"], maxShort)
			if label == "" {
				label = text(name, maxShort)
			}
			if v, ok := em["value"]; ok {
				m.Examples = append(m.Examples, example{Name: label, Value: pretty(v)})
			} else if ext := text(em["externalValue"], maxShort); ext != "" {
				m.Examples = append(m.Examples, example{Name: label, Value: ext})
			}
		}
		out = append(out, m)
	}
	return out
}

// deref follows a chain of $ref from v (at most maxRefHops) and answers
// the object it ends at and the first reference's text ("" without one).
// A reference outside the document, or to nothing, answers nil.
func (r *renderer) deref(v any) (map[string]any, string) {
	m, _ := v.(map[string]any)
	first := ""
	for hops := 0; m != nil; hops++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, first
		}
		if first == "" {
			first = ref
		}
		if hops >= maxRefHops {
			r.capped = true
			return nil, first
		}
		m, _ = r.pointer(ref).(map[string]any)
	}
	return nil, first
}

// pointer resolves a reference inside the document ("#/components/…");
// anything else (another file, a URL) is not fetched and answers nil.
func (r *renderer) pointer(ref string) any {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	if frag == "" {
		return r.doc
	}
	if !strings.HasPrefix(frag, "/") {
		return nil
	}
	var cur any = r.doc
	for tok := range strings.SplitSeq(frag[1:], "/") {
		if u, err := url.PathUnescape(tok); err == nil {
			tok = u
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// refName is the last element of a reference: "Pet" of
// "#/components/schemas/Pet".
func refName(ref string) string {
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return text(strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~"), 100)
}

// anchorOf is the operation's fragment id: its operationId when it is a
// plain word, else method and path; unique in the page.
func anchorOf(opv map[string]any, method, path string, used map[string]bool) string {
	base := text(opv["operationId"], 100)
	if base == "" {
		base = method + "-" + path
	}
	var b strings.Builder
	b.WriteString("op-")
	for _, c := range base {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	a := b.String()
	for i := 2; used[a]; i++ {
		a = b.String() + "-" + strconv.Itoa(i)
	}
	used[a] = true
	return a
}

// text is a string value cut to n characters; anything else is "".
func text(v any, n int) string {
	s, _ := v.(string)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// short is a value as compact JSON (a string as itself) cut to maxShort.
func short(v any) string {
	if s, ok := v.(string); ok {
		return text(s, maxShort)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return text(string(b), maxShort)
}

// pretty is a value as indented JSON (a string as itself), at most
// maxExample bytes.
func pretty(v any) string {
	s, ok := v.(string)
	if !ok {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		s = string(b)
	}
	if len(s) > maxExample {
		cut := maxExample
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "\n…"
	}
	return s
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	out := mapKeys(m)
	slices.Sort(out)
	return out
}
