package proxycache

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Remote is where strategy redis keeps entries: the gateway's Redis,
// shared by every gateway of the group. Keys are the entries' keys in
// hex; the implementation adds its prefix.
type Remote interface {
	// Get answers the value of key; nil, nil when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Del deletes key.
	Del(ctx context.Context, key string) error
}

// remoteTimeout bounds a Redis call on the request's path: a slow Redis
// makes a miss, never a slow answer.
const remoteTimeout = 200 * time.Millisecond

// remoteGrace keeps an expired entry in Redis a little longer, so a
// request can still tell EXPIRED from MISS.
const remoteGrace = time.Minute

// lookup finds k's entry, fresh or not.
func (f *Filter) lookup(k Key) *entry {
	if f.remote == nil {
		return f.mem.get(k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	v, err := f.remote.Get(ctx, k.String())
	if err != nil || v == nil {
		return nil
	}
	e, err := decodeEntry(v)
	if err != nil {
		return nil
	}
	return e
}

// store keeps e under k.
func (f *Filter) store(k Key, e *entry) {
	if f.remote == nil {
		f.mem.put(k, e)
		return
	}
	v := encodeEntry(e)
	ttl := e.expires.Sub(e.stored) + remoteGrace
	// The request has been answered; the write must not hold the
	// engine's request state.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*remoteTimeout)
		defer cancel()
		_ = f.remote.Set(ctx, k.String(), v, ttl)
	}()
}

// forget drops an expired entry.
func (f *Filter) forget(k Key, e *entry) {
	if f.remote == nil {
		f.mem.del(k, e)
	}
	// In Redis it expires on its own shortly.
}

func (f *Filter) remoteDel(k Key) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*remoteTimeout)
	defer cancel()
	_ = f.remote.Del(ctx, k.String())
}

// entryFormat starts an encoded entry.
const entryFormat = 1

// encodeEntry writes e for Redis: format, status, stored and expiry
// (Unix milliseconds), headers (length-prefixed), then the body.
func encodeEntry(e *entry) []byte {
	b := make([]byte, 0, 32+len(e.body)+len(e.header)*48)
	b = append(b, entryFormat)
	b = binary.AppendUvarint(b, uint64(e.status))
	b = binary.AppendVarint(b, e.stored.UnixMilli())
	b = binary.AppendVarint(b, e.expires.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(e.header)))
	for _, h := range e.header {
		b = appendPart(b, h.Name)
		b = appendPart(b, h.Value)
	}
	return append(b, e.body...)
}

var errBadEntry = errors.New("not a cache entry")

// decodeEntry reads what encodeEntry wrote; anything else is
// errBadEntry (a Redis value is input like any other).
func decodeEntry(b []byte) (*entry, error) {
	if len(b) == 0 || b[0] != entryFormat {
		return nil, errBadEntry
	}
	b = b[1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	sv := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		l, ok := uv()
		if !ok || l > uint64(len(b)) {
			return "", false
		}
		s := string(b[:l])
		b = b[l:]
		return s, true
	}
	status, ok1 := uv()
	stored, ok2 := sv()
	expires, ok3 := sv()
	n, ok4 := uv()
	if !ok1 || !ok2 || !ok3 || !ok4 || status < 100 || status > 999 || n > uint64(len(b)) {
		return nil, errBadEntry
	}
	e := &entry{status: int(status), stored: time.UnixMilli(stored), expires: time.UnixMilli(expires)}
	e.header = make([]plugin.HeaderField, 0, n)
	for range n {
		name, ok := str()
		if !ok || !plugin.ValidHeaderName(name) {
			return nil, errBadEntry
		}
		value, ok := str()
		if !ok || !plugin.ValidHeaderValue(value) {
			return nil, errBadEntry
		}
		e.header = append(e.header, plugin.HeaderField{Name: name, Value: value})
	}
	e.body = b
	e.size = entrySize(e.status, e.header, e.body)
	return e, nil
}
