// Package match is the gateway's route matcher: a segment tree built once per
// config revision and never mutated, so lookups need no lock. The next
// revision's matcher is built from scratch (NewBuilder) or by editing the
// current one (Matcher.Edit), which copies only the paths the change
// touches and leaves the current one answering as before.
//
// Precedence, in order:
//   - a route whose path has only literal segments beats one with parameters,
//     which beats one ending in a wildcard;
//   - at each segment a literal child is tried before a parameter child, so
//     among parameter routes the one with more leading literals wins;
//   - among wildcard routes the longest (deepest) prefix wins: the deepest
//     wildcard segment, and at one depth of one branch the longer literal
//     start ("/blog/bar*" before "/blog/*"), whatever order they were added in;
//   - at one path, a route naming the request's exact host beats a route with
//     a "*.example.com" host, which beats a route without hosts;
//   - a path (and host) that matches only with other methods answers 405.
//
// Path syntax: literal segments, parameters ({id} or :id, one whole non-empty
// segment) and a wildcard ending the path: "/anything/*" matches
// "/anything/" and "/anything/x/y" but, as in APISIX, not "/anything";
// "/blog/bar*" matches "/blog/bar", "/blog/barx" and "/blog/bar/a".
package match

import (
	"errors"
	"fmt"
	"strings"
)

// MaxParams bounds the parameters one route path may hold, so captured
// values fit a fixed buffer the caller provides.
const MaxParams = 16

// Route is one entry given to the Builder.
type Route[T any] struct {
	// Path is the full public path (group prefix and service path included).
	Path string
	// Hosts narrow the route to these hosts (exact or "*.suffix"); empty
	// means any host.
	Hosts []string
	// Methods narrow the route to these methods; empty means any method.
	Methods []string
	Value   T
}

// ConflictError reports that a route answers the same host, method and path
// as one added before.
type ConflictError[T any] struct {
	Path     string
	Host     string
	Existing T
}

func (e *ConflictError[T]) Error() string {
	h := e.Host
	if h == "" {
		h = "any host"
	}
	return fmt.Sprintf("path %s on %s is already served by another route", e.Path, h)
}

// An entry is one host's route at an endpoint. The entries of an endpoint
// are a list linked by next, most specific host first; like nodes, entries
// a built matcher holds never change (link copies one whose next must).
// Entries and nodes are most of a large table's memory, hence the list
// rather than a slice (an entry is 48 bytes, a node 48).
type entry[T any] struct {
	host     string    // "" any, "example.com", or "*.example.com"
	hostKind uint8     // 0 exact, 1 wildcard suffix (host[1:]: ".example.com"), 2 any: the order entries are tried
	methods  uint16    // bit set; allMethods when the route lists none
	names    *[]string // the path's parameter names; nil: none
	value    T
	next     *entry[T]
}

type wild[T any] struct {
	prefix  string // literal start of the wildcard segment ("bar" for "bar*")
	depth   int
	entries *entry[T]
}

// A node is shared by every matcher built from the builder that made it and
// from edits of those matchers, so once built it is never changed: an edit
// changes a copy (see edit.go). Entry lists and the wilds slice are never
// changed in place, even by their owner, so a copied node may share them.
type node[T any] struct {
	gen   uint64    // the Builder that may still change this node (edit.go)
	kids  *[]kid[T] // literal children, when few (literals.go)
	param *node[T]
	end   *entry[T]
	// more holds what few nodes have: many literal children, and
	// wildcards. A node is 48 bytes without them (a table of 100 000
	// routes has over 200 000 nodes).
	more *nodeMore[T]
}

// nodeMore is the rarer part of a node. A node copied by an edit gets a
// copy of it, so the copy's owner may change it in place.
type nodeMore[T any] struct {
	// statics are the literal children when more than a few; ownStatics
	// says this node's Builder made the map and may change it in place.
	statics    map[string]*node[T]
	ownStatics bool
	// shards hold the literal children instead of statics once a node has
	// many, split by hash, so that an edit copies one small map of them.
	shards  *[nShards]map[string]*node[T]
	owned   uint64    // shards (bit i) the node's Builder may change
	nstatic int       // literal children held in shards
	wilds   []wild[T] // longest prefix first
}

// shards is the node's sharded literal children, or nil.
func (n *node[T]) shards() *[nShards]map[string]*node[T] {
	if n.more == nil {
		return nil
	}
	return n.more.shards
}

// wilds is the node's wildcards, longest prefix first.
func (n *node[T]) wilds() []wild[T] {
	if n.more == nil {
		return nil
	}
	return n.more.wilds
}

// extra is n.more, made first if n has none (n is owned).
func (n *node[T]) extra() *nodeMore[T] {
	if n.more == nil {
		n.more = &nodeMore[T]{}
	}
	return n.more
}

// Matcher is an immutable route table. Safe for concurrent Lookup, also
// while an edit of it (Edit) is under way.
type Matcher[T any] struct {
	root *node[T] // nil in the zero Matcher
	n    int
}

// Builder collects routes; Build freezes them into a Matcher. A Builder is
// not safe for concurrent use.
type Builder[T any] struct {
	m   *Matcher[T]
	gen uint64 // the nodes with this generation are this Builder's own
	// names are the parameter-name lists of its entries, one of each: most
	// routes of a table have the same few ({id}, …), and entries never
	// change theirs.
	names map[string]*[]string
}

// NewBuilder returns an empty Builder.
func NewBuilder[T any]() *Builder[T] {
	gen := nextGen()
	return &Builder[T]{m: &Matcher[T]{root: &node[T]{gen: gen}}, gen: gen}
}

// Len is the number of routes (path × host entries) added.
func (m *Matcher[T]) Len() int { return m.n }

type segment struct {
	kind int // segLiteral, segParam, segWild
	text string
}

const (
	segLiteral = iota
	segParam
	segWild
)

// parsePath appends the segments of a route path to segs (a buffer the
// caller may keep on its stack: every Add and Remove parses a path, and the
// segments are not kept). It never panics; it returns an error for paths a
// route may not have.
func parsePath(p string, segs []segment) ([]segment, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New("path must start with /")
	}
	params := 0
	for rest, last := p[1:], false; !last; {
		s := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			s, rest = rest[:i], rest[i+1:]
		} else {
			last = true
		}
		switch {
		case strings.HasSuffix(s, "*"):
			if !last {
				return nil, errors.New("a wildcard * may only end the path")
			}
			pre := strings.TrimSuffix(s, "*")
			if strings.ContainsAny(pre, "*{}") || strings.HasPrefix(pre, ":") {
				return nil, fmt.Errorf("segment %q mixes a wildcard with a parameter", s)
			}
			segs = append(segs, segment{segWild, pre})
		case len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}':
			segs = append(segs, segment{segParam, s[1 : len(s)-1]})
			params++
		case len(s) > 1 && s[0] == ':':
			segs = append(segs, segment{segParam, s[1:]})
			params++
		default:
			if strings.ContainsAny(s, "{}*") {
				return nil, fmt.Errorf("segment %q holds a partial parameter", s)
			}
			segs = append(segs, segment{segLiteral, s})
		}
	}
	if params > MaxParams {
		return nil, fmt.Errorf("path has %d parameters, at most %d are allowed", params, MaxParams)
	}
	return segs, nil
}

// Add inserts a route. It returns a *ConflictError[T] when a route added
// before (and not removed) answers an overlapping host, method and path, and
// another error for a malformed path or host. Add is all or nothing: a
// route refused for any of its hosts adds no entry for the others, and the
// Builder stays usable.
func (b *Builder[T]) Add(r Route[T]) error {
	var sbuf [8]segment
	segs, err := parsePath(r.Path, sbuf[:0])
	if err != nil {
		return fmt.Errorf("route path %q: %w", r.Path, err)
	}
	mask, err := methodMask(r.Methods)
	if err != nil {
		return err
	}
	names := b.sharedNames(paramNames(segs))
	hosts := r.Hosts
	if len(hosts) == 0 {
		hosts = anyHost
	}
	// The new list is checked and filled before anything changes, so a
	// refused route leaves no trace. It is a fresh one: the old one may be
	// held by a built matcher.
	list := appendEntries(make([]*entry[T], 0, 4), endpoint(b.m.root, segs))
	for _, h := range hosts {
		e, err := newEntry(h, mask, names, r.Value)
		if err != nil {
			return fmt.Errorf("route path %q: %w", r.Path, err)
		}
		for _, x := range list {
			if x.host == e.host && x.methods&e.methods != 0 {
				return &ConflictError[T]{Path: r.Path, Host: h, Existing: x.value}
			}
		}
		list = insertEntry(list, e)
	}
	var buf [8]*node[T]
	path := b.reach(segs, buf[:0])
	b.setEndpoint(path[len(path)-1], segs, link(list))
	b.m.n += len(hosts)
	return nil
}

// anyHost stands for the hosts of a route that names none. Read only.
var anyHost = []string{""}

func paramNames(segs []segment) []string {
	var names []string
	for _, s := range segs {
		if s.kind == segParam {
			names = append(names, s.text)
		}
	}
	return names
}

// sharedNames is names as an earlier entry of this Builder holds it. The
// names are copied out of the route's path, which the matcher does not
// keep.
func (b *Builder[T]) sharedNames(names []string) *[]string {
	if len(names) == 0 {
		return nil
	}
	key := strings.Join(names, "/")
	if have, ok := b.names[key]; ok {
		return have
	}
	if b.names == nil {
		b.names = map[string]*[]string{}
	}
	own := make([]string, len(names))
	for i, n := range names {
		own[i] = strings.Clone(n)
	}
	b.names[key] = &own
	return &own
}

// appendEntries appends the entries of the list that starts at e.
func appendEntries[T any](out []*entry[T], e *entry[T]) []*entry[T] {
	for ; e != nil; e = e.next {
		out = append(out, e)
	}
	return out
}

// link chains list, in its order, into an endpoint's entry list and
// returns its head (nil for an empty list). An entry already followed by
// the one it needs is used as it is; any other is copied, as it may be
// held by a built matcher.
func link[T any](list []*entry[T]) *entry[T] {
	var next *entry[T]
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		if e.next != next {
			c := *e
			c.next = next
			e = &c
		}
		next = e
	}
	return next
}

func newEntry[T any](host string, mask uint16, names *[]string, v T) (*entry[T], error) {
	e := &entry[T]{host: strings.ToLower(host), methods: mask, names: names, value: v}
	switch {
	case host == "":
		e.hostKind = 2
	case strings.HasPrefix(host, "*."):
		if len(host) < 3 || strings.Contains(host[2:], "*") {
			return nil, fmt.Errorf("host %q is not a valid wildcard host", host)
		}
		e.hostKind = 1
	case strings.Contains(host, "*"):
		return nil, fmt.Errorf("host %q: a wildcard may only start a host", host)
	}
	return e, nil
}

// insertEntry keeps entries ordered exact host, wildcard host (longest
// suffix first), any host, so the first hit is the most specific. It changes
// list in place: the caller passes a list no matcher holds.
func insertEntry[T any](list []*entry[T], e *entry[T]) []*entry[T] {
	i := len(list)
	for j, x := range list {
		if e.hostKind < x.hostKind || (e.hostKind == 1 && x.hostKind == 1 && len(e.host) > len(x.host)) {
			i = j
			break
		}
	}
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

// Build freezes the routes. The Builder must not be used afterwards: the
// nodes it owns now belong to the Matcher, which must never change.
func (b *Builder[T]) Build() *Matcher[T] {
	m := b.m
	b.m = nil
	return m
}
