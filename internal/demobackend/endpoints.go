package demobackend

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Limits of the generating endpoints, so one request cannot tie the backend
// up for long or make it allocate much.
const (
	maxDelay       = 10 * time.Second
	maxBytes       = 100 << 20 // /bytes/{n}
	maxStreamLines = 100       // /stream/{n}
	bytesChunk     = 32 << 10  // /bytes writes this much at a time
)

// handleStatus answers /status/{code} with that status. A final status
// (200-599) comes with a small JSON body where the status allows one. An
// informational status (1xx) cannot end an HTTP exchange, so it is sent as
// an interim response followed by an empty final 200 (101 Switching
// Protocols would promise an upgrade that never comes, so it is skipped).
func handleStatus(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	code, err := strconv.Atoi(raw)
	if err != nil || code < 100 || code > 599 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("status code %q: want an integer from 100 to 599", raw))
		return
	}
	if code < 200 {
		if code != http.StatusSwitchingProtocols {
			w.WriteHeader(code)
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	switch {
	case code == http.StatusNoContent || code == http.StatusNotModified:
		w.WriteHeader(code)
	case code >= 300 && code < 400:
		// Like httpbin: a redirect says where to go, so clients that follow
		// it end somewhere real.
		w.Header().Set("Location", "/get")
		writeJSON(w, code, statusBody(code))
	default:
		writeJSON(w, code, statusBody(code))
	}
}

func statusBody(code int) map[string]any {
	return map[string]any{"status": code, "text": http.StatusText(code)}
}

// handleDelay waits /delay/{seconds} (fractions allowed, at most 10 s; more
// is clamped to 10 like httpbin) and then answers like /get. A request
// whose client goes away stops waiting and gets no answer.
func handleDelay(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("seconds")
	secs, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("delay %q: want a number of seconds from 0 to 10", raw))
		return
	}
	d := min(time.Duration(secs*float64(time.Second)), maxDelay)
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	e := getEcho(r)
	e.Method = r.Method
	writeJSON(w, http.StatusOK, e)
}

// handleBytes streams n pseudo-random bytes with a Content-Length. With
// ?seed=S (an unsigned integer) the same S gives the same bytes.
func handleBytes(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("n")
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 || n > maxBytes {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("byte count %q: want an integer from 0 to %d", raw, maxBytes))
		return
	}
	var seed uint64
	if s := r.URL.Query().Get("seed"); s != "" {
		seed, err = strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("seed %q: want an unsigned integer", s))
			return
		}
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
		for _, c := range b {
			seed = seed<<8 | uint64(c)
		}
	}
	var key [32]byte
	for i := range 4 {
		// Spread the 64-bit seed over the ChaCha8 key; distinct words keep
		// the key from being four copies of one value.
		v := seed ^ (uint64(i) * 0x9e3779b97f4a7c15)
		for j := range 8 {
			key[i*8+j] = byte(v >> (8 * j))
		}
	}
	src := mrand.NewChaCha8(key)

	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	buf := make([]byte, min(n, bytesChunk))
	for n > 0 {
		if r.Context().Err() != nil {
			return
		}
		chunk := buf[:min(n, int64(len(buf)))]
		_, _ = src.Read(chunk) // ChaCha8.Read never fails
		if _, err := w.Write(chunk); err != nil {
			return // the client is gone
		}
		n -= int64(len(chunk))
	}
}

// handleStream answers n JSON documents like /get, one per line, each
// flushed on its own so a client sees them arrive separately.
func handleStream(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxStreamLines {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("line count %q: want an integer from 0 to %d", raw, maxStreamLines))
		return
	}
	e := getEcho(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for i := range n {
		if r.Context().Err() != nil {
			return
		}
		id := i
		e.ID = &id
		b, err := json.Marshal(e)
		if err != nil {
			return // cannot happen: the echo holds strings and maps of strings only
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// handleUUID answers {"uuid": "…"} with a random (version 4) UUID.
func handleUUID(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"uuid": newUUID4()})
}

// newUUID4 returns an RFC 9562 version 4 UUID in its canonical text form.
func newUUID4() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
