package plugin

// FieldError is one part of a request a filter found wrong: where
// ("query.limit", "body.user.name") and what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// RejectFields answers like Reject, with the failing fields listed in the
// error object: {"error":{"code":..,"message":..,"fields":[{"field":..,
// "message":..},…]},"request_id":..}. Only the first Reject, RejectFields
// or Respond writes.
func (ex *Exchange) RejectFields(status int, code, message string, fields []FieldError) {
	if ex.answered {
		return
	}
	ex.answered = true
	ex.rejected, ex.rejectStatus, ex.rejectCode = true, status, code
	ex.errBuf = AppendFieldsError(ex.errBuf[:0], code, message, fields, ex.requestID, ex.traceID)
	ex.b.WriteError(status, ex.errBuf)
}

// AppendFieldsError is AppendError with the error's fields; without any it
// writes what AppendError writes.
func AppendFieldsError(dst []byte, code, message string, fields []FieldError, requestID, traceID string) []byte {
	if len(fields) == 0 {
		return AppendError(dst, code, message, requestID, traceID)
	}
	dst = append(dst, `{"error":{"code":`...)
	dst = AppendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendJSONString(dst, message)
	dst = append(dst, `,"fields":[`...)
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"field":`...)
		dst = AppendJSONString(dst, f.Field)
		dst = append(dst, `,"message":`...)
		dst = AppendJSONString(dst, f.Message)
		dst = append(dst, '}')
	}
	dst = append(dst, `]},"request_id":`...)
	dst = AppendJSONString(dst, requestID)
	if traceID != "" {
		dst = append(dst, `,"trace_id":`...)
		dst = AppendJSONString(dst, traceID)
	}
	return append(dst, "}\n"...)
}
