package console

import "strings"

// maxRedirect bounds a redirect target taken from a request.
const maxRedirect = 2048

// safeRedirect is the only way a target taken from a request (?back=,
// ?next=, a form's next) becomes a Location. It answers target when it is
// a relative path of this site and "/" otherwise. Browsers are lenient
// with Location: they drop TAB, CR and LF, read "\" as "/" and take
// "//host" as another origin, so "/\t/evil.example" leads off site. Rather
// than enumerate such tricks, a target must
//   - start with exactly one "/" (the second byte is neither "/" nor "\"),
//   - consist only of A-Z a-z 0-9 and / _ . ~ - % ? = & + , (no control
//     bytes, spaces, backslashes, quotes, "#", ":" or "@"),
//   - carry only well-formed %XX escapes, and in its path part (before
//     "?") none that decodes to "/", "\" or a control byte, so that a
//     server or proxy that decodes once more cannot turn it into "//".
//
// Everything the console itself links to (url.PathEscape'd ids,
// url.QueryEscape'd query values) stays within this set.
func safeRedirect(target string) string {
	if len(target) == 0 || len(target) > maxRedirect || target[0] != '/' {
		return "/"
	}
	if len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return "/"
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
				return "/"
			}
			v := unhex(target[i+1])<<4 | unhex(target[i+2])
			if inPath && (v == '/' || v == '\\' || v < 0x20 || v == 0x7f || v == '%') {
				return "/"
			}
			i += 2
		default:
			return "/"
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
