package webpage

import "strings"

// MaxRedirect bounds a redirect target taken from a request.
const MaxRedirect = 2048

// LocalRedirect is the only way a target taken from a request (?next=,
// ?back=, a form's next or back) becomes a Location. It answers target
// when it is a path under root ("/": anywhere on this site) and home
// otherwise. Browsers are lenient with Location: they drop TAB, CR and
// LF, read "\" as "/" and take "//host" as another origin, so
// "/\t/evil.example" leads off site. Rather than enumerate such tricks, a
// target must
//   - be root or lie under it: with root "/", start with exactly one "/"
//     (the second byte is neither "/" nor "\"); with another root, be
//     root or start with root+"/" or root+"?" (not /portalx of /portal),
//   - consist only of A-Z a-z 0-9 and / _ . ~ - % ? = & + , (no control
//     bytes, spaces, backslashes, quotes, "#", ":" or "@"),
//   - carry only well-formed %XX escapes, and in its path part (before
//     "?") none that decodes to "/", "\", "%" or a control byte, so that
//     a server or proxy that decodes once more cannot turn it into "//",
//   - under a root other than "/", hold no "." or ".." path segment and
//     no escaped "." in its path part either: a browser would resolve
//     /portal/../x to /x, off the root.
//
// Everything the pages themselves link to (url.PathEscape'd ids,
// url.QueryEscape'd query values) stays within this set.
func LocalRedirect(target, root, home string) string {
	if len(target) == 0 || len(target) > MaxRedirect {
		return home
	}
	confined := root != "/"
	if confined {
		if target != root && !strings.HasPrefix(target, root+"/") && !strings.HasPrefix(target, root+"?") {
			return home
		}
		path, _, _ := strings.Cut(target, "?")
		for seg := range strings.SplitSeq(path, "/") {
			if seg == "." || seg == ".." {
				return home
			}
		}
	} else if target[0] != '/' || len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return home
	}
	inPath := true
	for i := 0; i < len(target); i++ {
		b := target[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '?':
			inPath = false
		case strings.IndexByte("/_.~-=&+,", b) >= 0:
		case b == '%':
			if i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2]) {
				return home
			}
			v := unhex(target[i+1])<<4 | unhex(target[i+2])
			if inPath && (v == '/' || v == '\\' || v < 0x20 || v == 0x7f || v == '%' || confined && v == '.') {
				return home
			}
			i += 2
		default:
			return home
		}
	}
	return target
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}
