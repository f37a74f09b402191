package match

import "strings"

// HostOnly is the host of a Host header as routes match it: without the
// port and without IPv6 brackets. It allocates nothing.
func HostOnly(h string) string {
	i := strings.LastIndexByte(h, ':')
	switch {
	case len(h) > 0 && h[0] == '[':
		if j := strings.IndexByte(h, ']'); j > 0 {
			return h[1:j]
		}
		return h
	case i < 0 || strings.IndexByte(h, ':') != i: // no port, or a bare IPv6
		return h
	}
	return h[:i]
}
