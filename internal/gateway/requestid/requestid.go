// Package requestid makes the X-Request-Id of gateway requests: unique per
// process start without a random read per request.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// MaxLen bounds an incoming X-Request-Id the gateway keeps.
const MaxLen = 128

var (
	prefix  = newPrefix()
	counter atomic.Uint64
)

func newPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return hex.EncodeToString(b[:]) + "-"
}

// New returns a fresh id: a random per-process prefix and a counter.
func New() string {
	var buf [17 + 20]byte
	return string(Append(buf[:0]))
}

// Append appends a fresh id to dst, for engines that keep the id in a
// reused buffer instead of a new string.
func Append(dst []byte) []byte {
	dst = append(dst, prefix...)
	return strconv.AppendUint(dst, counter.Add(1), 36)
}

// Valid reports whether a client's id may be kept: not empty, not too long,
// only visible ASCII (it is echoed in headers and logs).
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
