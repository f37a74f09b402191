package nethttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// isGRPC reports whether r is a gRPC call: HTTP/2 with a gRPC content
// type. Its errors are answered the way gRPC clients read them.
func isGRPC(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return r.ProtoMajor == 2 && (ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;"))
}

// gRPC status codes the gateway's own answers map to.
const (
	grpcUnknown           = 2
	grpcInvalidArgument   = 3
	grpcDeadlineExceeded  = 4
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
)

// grpcCode is the gRPC status of a gateway answer of HTTP status.
func grpcCode(status int) int {
	switch status {
	case http.StatusBadRequest:
		return grpcInvalidArgument
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusHTTPVersionNotSupported:
		return grpcUnimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return grpcDeadlineExceeded
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusRequestHeaderFieldsTooLarge:
		return grpcResourceExhausted
	case http.StatusInternalServerError:
		return grpcInternal
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return grpcUnavailable
	}
	return grpcUnknown
}

// writeGRPCError answers a gRPC call with the gateway's error as a gRPC
// status (trailers-only: HTTP 200, grpc-status and grpc-message, no
// body); the gateway's code and request id go in the message.
func (st *state) writeGRPCError(status int, body []byte) {
	var e struct {
		Error     struct{ Code, Message string }
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Error.Code + ": " + e.Error.Message + " (request " + e.RequestID + ")"
	h := st.w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(grpcCode(status)))
	h.Set("Grpc-Message", url.PathEscape(msg))
	st.w.WriteHeader(http.StatusOK)
	st.status = status
}
