package match

import (
	"fmt"
	"strings"
)

// methodNames index the method bits; the last bit stands for any other
// method, which only routes without a method list accept.
var methodNames = [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"}

const (
	otherMethod = uint16(1) << len(methodNames)
	allMethods  = otherMethod<<1 - 1
)

func methodBit(m string) uint16 {
	switch m {
	case "GET":
		return 1 << 0
	case "POST":
		return 1 << 1
	case "PUT":
		return 1 << 2
	case "PATCH":
		return 1 << 3
	case "DELETE":
		return 1 << 4
	case "HEAD":
		return 1 << 5
	case "OPTIONS":
		return 1 << 6
	case "CONNECT":
		return 1 << 7
	case "TRACE":
		return 1 << 8
	}
	return otherMethod
}

func methodMask(methods []string) (uint16, error) {
	if len(methods) == 0 {
		return allMethods, nil
	}
	var mask uint16
	for _, m := range methods {
		b := methodBit(m)
		if b == otherMethod {
			return 0, fmt.Errorf("unknown method %q", m)
		}
		mask |= b
	}
	return mask, nil
}

// Params receives the path parameters of a hit. The caller owns it and may
// reuse it between lookups (engines keep one per pooled request state), so a
// hit allocates nothing: values are substrings of the looked-up path.
type Params struct {
	names    []string // of the matched route; shared, never modified
	vals     [MaxParams]string
	saved    [MaxParams]string // values of the best wildcard hit while the search goes on
	n        int
	wildcard string
	hasWild  bool
}

// Reset forgets the last hit.
func (p *Params) Reset() {
	p.names = nil
	p.n = 0
	p.wildcard = ""
	p.hasWild = false
	clear(p.vals[:])
}

func (p *Params) setNames(names *[]string) {
	if names != nil {
		p.names = *names
		p.n = len(p.names)
	}
}

// Len is the number of parameters captured.
func (p *Params) Len() int { return p.n }

// Name and Value return the i-th parameter (0 <= i < Len()).
func (p *Params) Name(i int) string  { return p.names[i] }
func (p *Params) Value(i int) string { return p.vals[i] }

// Get returns the value of the parameter called name, or "".
func (p *Params) Get(name string) string {
	for i := 0; i < p.n; i++ {
		if p.names[i] == name {
			return p.vals[i]
		}
	}
	return ""
}

// Wildcard returns what the wildcard segment of the matched route covered
// ("x/y" for "/anything/*" and "/anything/x/y") and whether the route has one.
func (p *Params) Wildcard() (string, bool) { return p.wildcard, p.hasWild }

type search[T any] struct {
	host      string
	method    uint16
	ps        *Params
	wild      *entry[T]
	wildDepth int
	wildRest  string
	wildN     int
	notAllow  *entry[T] // first endpoint whose path and host matched but not the method
}

// Lookup finds the route for a request. host must come without a port;
// path is the decoded path without query. ps must not be nil. On a hit it
// returns the route's value and ok; on a miss, allow lists the methods the
// path does answer (405) or is empty (404).
func (m *Matcher[T]) Lookup(host, method, path string, ps *Params) (v T, allow string, ok bool) {
	ps.Reset()
	if len(path) == 0 || path[0] != '/' {
		return v, "", false
	}
	if m.root == nil {
		return v, "", false
	}
	s := search[T]{host: host, method: methodBit(method), ps: ps}
	if e := s.walk(m.root, path, 0, 0); e != nil {
		ps.setNames(e.names)
		return e.value, "", true
	}
	if s.wild != nil {
		copy(ps.vals[:s.wildN], ps.saved[:s.wildN])
		ps.setNames(s.wild.names)
		ps.wildcard, ps.hasWild = s.wildRest, true
		return s.wild.value, "", true
	}
	if s.notAllow != nil {
		return v, allowFor(s.notAllow, host), false
	}
	return v, "", false
}

// walk matches rest (the path left, "" or starting with '/') below n. It
// returns the first full non-wildcard hit; wildcard hits are remembered in s
// because any parameter or literal route beats them.
func (s *search[T]) walk(n *node[T], rest string, depth, pi int) *entry[T] {
	if rest == "" {
		return s.pick(n.end)
	}
	tail := rest[1:]
	seg, next := tail, ""
	if i := strings.IndexByte(tail, '/'); i >= 0 {
		seg, next = tail[:i], tail[i:]
	}
	// n.static(seg), written out: the generic method is not inlined.
	var c *node[T]
	if n.kids != nil {
		c = findKid(*n.kids, seg)
	} else if m := n.more; m != nil {
		if m.shards != nil {
			c = m.shards[shardOf(seg)][seg]
		} else {
			c = m.statics[seg]
		}
	}
	if c != nil {
		if e := s.walk(c, next, depth+1, pi); e != nil {
			return e
		}
	}
	if n.param != nil && seg != "" && pi < MaxParams {
		s.ps.vals[pi] = seg
		if e := s.walk(n.param, next, depth+1, pi+1); e != nil {
			return e
		}
	}
	if n.more == nil {
		return nil
	}
	for i := range n.more.wilds {
		w := &n.more.wilds[i]
		if (s.wild != nil && w.depth <= s.wildDepth) || !strings.HasPrefix(tail, w.prefix) {
			continue
		}
		if e := s.pick(w.entries); e != nil {
			s.wild, s.wildDepth, s.wildRest, s.wildN = e, w.depth, tail[len(w.prefix):], pi
			copy(s.ps.saved[:pi], s.ps.vals[:pi])
		}
	}
	return nil
}

// pick returns the first entry matching host and method. An endpoint that
// matches the host but not the method is kept for the 405 answer.
func (s *search[T]) pick(list *entry[T]) *entry[T] {
	hostHit := false
	for e := list; e != nil; e = e.next {
		if !e.matchHost(s.host) {
			continue
		}
		if e.methods&s.method != 0 {
			return e
		}
		hostHit = true
	}
	if hostHit && s.notAllow == nil {
		s.notAllow = list
	}
	return nil
}

func (e *entry[T]) matchHost(host string) bool {
	switch e.hostKind {
	case 0:
		return strings.EqualFold(host, e.host)
	case 1:
		suffix := e.host[1:] // "*.example.com" → ".example.com"
		return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return true
}

func allowFor[T any](list *entry[T], host string) string {
	var mask uint16
	for e := list; e != nil; e = e.next {
		if e.matchHost(host) {
			mask |= e.methods
		}
	}
	var names []string
	for i, m := range methodNames {
		if mask&(1<<i) != 0 {
			names = append(names, m)
		}
	}
	return strings.Join(names, ", ")
}
