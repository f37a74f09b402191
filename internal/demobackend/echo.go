package demobackend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// maxEchoBody bounds how much of a request body /anything reads, so a large
// upload cannot exhaust memory.
const maxEchoBody = 10 << 20

// echo is the httpbin answer shape; fields are left out per endpoint the way
// httpbin does (/get has no data, form, files or json).
type echo struct {
	Args    map[string]any    `json:"args"`
	Data    *string           `json:"data,omitempty"`
	Files   map[string]any    `json:"files,omitempty"`
	Form    map[string]any    `json:"form,omitempty"`
	Headers map[string]string `json:"headers"`
	JSON    *json.RawMessage  `json:"json,omitempty"`
	Method  string            `json:"method,omitempty"`
	Origin  string            `json:"origin"`
	URL     string            `json:"url"`
	ID      *int              `json:"id,omitempty"`
}

func handleAnything(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEchoBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("reading the body: %v", err))
		return
	}
	e := getEcho(r)
	e.Method = r.Method
	e.Files = map[string]any{}
	e.Form = map[string]any{}
	data := string(body)
	// Like httpbin: a url-encoded body shows up under form, not data.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if vals, err := url.ParseQuery(data); err == nil {
			e.Form = flatten(vals)
			data = ""
		}
	}
	e.Data = &data
	// httpbin tries to parse every body as JSON, whatever its content type;
	// a body that is not JSON gives json: null.
	raw := json.RawMessage("null")
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && json.Valid(trimmed) {
		raw = json.RawMessage(trimmed)
	}
	e.JSON = &raw
	writeJSON(w, http.StatusOK, e)
}

func handleGet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, getEcho(r))
}

func handleHeaders(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"headers": headers(r)})
}

func handleIP(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"origin": origin(r)})
}

// getEcho builds the fields every echo endpoint shares.
func getEcho(r *http.Request) *echo {
	return &echo{
		Args:    flatten(r.URL.Query()),
		Headers: headers(r),
		Origin:  origin(r),
		URL:     fullURL(r),
	}
}

// flatten turns url.Values into httpbin's shape: a string for a single
// value, a list when the key is repeated.
func flatten(vals url.Values) map[string]any {
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		switch len(v) {
		case 0:
			out[k] = ""
		case 1:
			out[k] = v[0]
		default:
			out[k] = v
		}
	}
	return out
}

// headers returns the request headers with canonical names; repeated values
// are joined with "," as a proxy would fold them. Host is added back because
// net/http moves it out of the header map.
func headers(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		out[http.CanonicalHeaderKey(k)] = strings.Join(v, ",")
	}
	if r.Host != "" {
		out["Host"] = r.Host
	}
	return out
}

// origin is the X-Forwarded-For chain followed by the direct peer, joined
// with ", " as httpbin shows it behind proxies.
func origin(r *http.Request) string {
	var chain []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				chain = append(chain, p)
			}
		}
	}
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if peer != "" {
		chain = append(chain, peer)
	}
	return strings.Join(chain, ", ")
}

// fullURL rebuilds the URL the client asked for, honouring the forwarding
// headers a gateway sets so the echo shows the public address.
func fullURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
		scheme = p
	}
	host := r.Host
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
		host = h
	}
	return scheme + "://" + host + r.URL.RequestURI()
}

// firstValue is the first element of a comma-separated forwarding header
// (the one the original client's nearest proxy wrote).
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// sortedKeys is used by the index and by tests wanting a stable order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
