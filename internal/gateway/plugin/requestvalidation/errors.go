package requestvalidation

import (
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// fieldErrors collects what is wrong with a request: the first maxFields
// listed, all counted.
type fieldErrors struct {
	list []plugin.FieldError
	n    int
}

// maxMessage bounds one field's message: a schema's reason may quote the
// schema's own values (an enum) or the client's.
const maxMessage = 200

func (e *fieldErrors) add(field, message string) {
	e.n++
	if len(e.list) >= maxFields {
		return
	}
	if len(message) > maxMessage {
		message = message[:maxMessage] + "…"
	}
	e.list = append(e.list, plugin.FieldError{Field: field, Message: message})
}

// schema adds each failure kin-openapi's validator reported, named by
// where in the value it is (body.user.name, body.items[1].qty).
func (e *fieldErrors) schema(base string, err error) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, one := range me {
			e.schema(base, one)
		}
		return
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		e.add(base, "does not match the schema")
		return
	}
	field := base
	for _, seg := range se.JSONPointer() {
		if isIndex(seg) {
			field += "[" + seg + "]"
		} else {
			field += "." + seg
		}
	}
	msg := se.Reason
	switch {
	case se.SchemaField == "required":
		msg = "required"
	case msg == "":
		msg = "does not match the schema (" + se.SchemaField + ")"
	}
	e.add(field, msg)
}

func isIndex(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	_, err := strconv.Atoi(s)
	return err == nil && s[0] != '-' && s[0] != '+'
}

// message is the answer's message: every listed field, and how many more.
func (e *fieldErrors) message() string {
	var b strings.Builder
	b.WriteString("the request does not match the route's description: ")
	for i, f := range e.list {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	if more := e.n - len(e.list); more > 0 {
		b.WriteString("; and " + strconv.Itoa(more) + " more")
	}
	return b.String()
}
