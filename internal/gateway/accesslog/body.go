package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Truncated ends a kept body that was cut (by the cap, or because the
// body the gateway captured ended early).
const Truncated = "…(truncated)"

// Append appends what an access-log line keeps of body and returns the
// extended buffer:
//
//   - a JSON body (contentType contains "json") with a Mask list is
//     re-written compactly token by token, the value of every field named
//     in Mask (at any depth, whatever its type) written as "***". The
//     output is cut at MaxBytes. When the body cannot be parsed to its end
//     (the gateway captured only its start, or it is not JSON), only the
//     prefix that parsed is kept, followed by "…(truncated)": a masked
//     field's value never appears, even in part, because a value is
//     written only once it has been read whole and found not masked.
//   - any other body is cut at MaxBytes (on a character boundary) and kept
//     when it is valid UTF-8, else written as "(binary, N bytes)".
//
// A cut body ends with "…(truncated)".
func (b *BodyPolicy) Append(dst, body []byte, contentType string) []byte {
	max := b.MaxBytes
	if max <= 0 {
		max = DefaultBodyMaxBytes
	}
	if len(b.Mask) > 0 && containsFold(contentType, "json") {
		return b.appendMaskedJSON(dst, body, max)
	}
	kept := body
	if len(kept) > max {
		kept = trimCutRune(kept[:max])
	}
	if !utf8.Valid(kept) {
		dst = append(dst, "(binary, "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		return append(dst, " bytes)"...)
	}
	dst = append(dst, kept...)
	if len(kept) < len(body) {
		dst = append(dst, Truncated...)
	}
	return dst
}

// trimCutRune drops the start of a character a cut left at the end of b.
func trimCutRune(b []byte) []byte {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return b // ASCII: nothing cut
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// jsonFrame is one open object or array while re-writing a JSON body.
type jsonFrame struct {
	object  bool
	n       int  // members written
	wantKey bool // object: the next string is a key
}

// errCapReached stops re-writing once MaxBytes is written.
var errCapReached = errors.New("cap reached")

// appendMaskedJSON re-writes body token by token with masked values
// replaced; see Append.
func (b *BodyPolicy) appendMaskedJSON(dst, body []byte, max int) []byte {
	start := len(dst)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []jsonFrame
	out := dst
	// emit writes tok and reports errCapReached, having cut the output at
	// the cap, when the output would pass it. Only tokens read whole and
	// not masked are ever emitted, so cutting one reveals nothing masked.
	emit := func(tok []byte) error {
		if len(out)-start+len(tok) > max {
			keep := max - (len(out) - start)
			if keep > 0 {
				out = append(out, trimCutRune(tok[:keep])...)
			}
			return errCapReached
		}
		out = append(out, tok...)
		return nil
	}
	var tokBuf []byte
	complete := false
	err := func() error {
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				complete = len(stack) == 0
				return nil
			}
			if err != nil {
				return err
			}
			// Separator before this token.
			var top *jsonFrame
			if len(stack) > 0 {
				top = &stack[len(stack)-1]
			}
			isClose := tok == json.Delim('}') || tok == json.Delim(']')
			tokBuf = tokBuf[:0]
			switch {
			case isClose:
			case top == nil:
				if len(out) > start {
					tokBuf = append(tokBuf, '\n') // a stream of values
				}
			case top.object && top.wantKey:
				if top.n > 0 {
					tokBuf = append(tokBuf, ',')
				}
			case top.object:
				tokBuf = append(tokBuf, ':')
			case top.n > 0:
				tokBuf = append(tokBuf, ',')
			}
			if top != nil && top.object && top.wantKey && !isClose {
				key, _ := tok.(string)
				tokBuf = appendString(tokBuf, key)
				if b.masked(key) {
					tokBuf = append(tokBuf, `:"***"`...)
					if err := emit(tokBuf); err != nil {
						return err
					}
					top.n++
					if err := skipValue(dec); err != nil {
						return err
					}
					continue
				}
				top.wantKey = false
				if err := emit(tokBuf); err != nil {
					return err
				}
				continue
			}
			switch v := tok.(type) {
			case json.Delim:
				tokBuf = append(tokBuf, byte(v))
				if v == '{' || v == '[' {
					stack = append(stack, jsonFrame{object: v == '{', wantKey: v == '{'})
				} else {
					stack = stack[:len(stack)-1]
				}
			case string:
				tokBuf = appendString(tokBuf, v)
			case json.Number:
				tokBuf = append(tokBuf, v...)
			case bool:
				tokBuf = strconv.AppendBool(tokBuf, v)
			case nil:
				tokBuf = append(tokBuf, "null"...)
			}
			if err := emit(tokBuf); err != nil {
				return err
			}
			// A value (scalar, or a container that just closed) is done
			// unless a container just opened.
			if tok != json.Delim('{') && tok != json.Delim('[') && len(stack) > 0 {
				parent := &stack[len(stack)-1]
				parent.n++
				if parent.object {
					parent.wantKey = true
				}
			}
		}
	}()
	if err != nil || !complete {
		out = append(out, Truncated...)
	}
	return out
}

// masked reports whether a JSON field name is in Mask.
func (b *BodyPolicy) masked(key string) bool {
	for _, m := range b.Mask {
		if strings.EqualFold(m, key) {
			return true
		}
	}
	return false
}

// skipValue reads the next value whole (a scalar, or a container to its
// end) without writing it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
